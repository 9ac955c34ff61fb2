using Dapper;
using PgDeploy.Migrations.Scripts;
using PgDeploy.Safety;
using PgDeploy.Safety.Verification;

namespace PgDeploy.Migrations.Analysis;

/// <summary>
/// Before the fence, every pending statement read by PostgreSQL's parser and walked in plan order against the target database:
/// its data checks on today's rows (DataChecker) and its estimated cost from the table's size and this server's measured
/// throughput. One read-only snapshot, each query under the scripts' statement timeout.
/// </summary>
public static class PlanAnalysis
{
    /// <param name="Checked">How many checks ran on the data.</param>
    /// <param name="Throughput">Null when it could not be measured (no TEMP privilege, say): then nothing is estimated.</param>
    public sealed record Report(IReadOnlyList<Finding> Findings, int Statements, int Checked, IReadOnlyList<StatementCost> Costs, ServerThroughput? Throughput)
    {
        public IEnumerable<Finding> Refusals => Findings.Where(finding => finding.Refuses);
        public IEnumerable<Finding> Skipped => Findings.Where(finding => finding.Severity == FindingSeverity.Info);
        public double EstimatedSeconds => Costs.Sum(cost => cost.Seconds ?? 0);

        /// Each script's estimated seconds, costliest first.
        public IReadOnlyList<(string Script, double Seconds)> ByScript => Costs
            .GroupBy(cost => cost.Site.Script)
            .Select(group => (group.Key, group.Sum(cost => cost.Seconds ?? 0)))
            .OrderByDescending(script => script.Item2).ToList();

        /// Script by script in plan order: each statement that works on rows with its estimate, and each finding.
        public string Describe()
        {
            var lines = new List<string> { Throughput is null
                ? "Checked on today's data; not estimated (the server's throughput could not be measured):"
                : $"Checked on today's data, estimated from this server's measured throughput ({Throughput}):" };
            foreach (var script in Costs.Select(cost => cost.Site.Script).Concat(Findings.Select(finding => finding.Script)).Distinct())
            {
                var costs = Costs.Where(cost => cost.Site.Script == script && cost.Work.Count > 0).ToList();
                var findings = Findings.Where(finding => finding.Script == script).ToList();
                if (costs.Count == 0 && findings.Count == 0)
                    continue;
                lines.Add($"  {script}{(costs.Any(cost => cost.Seconds is not null) ? $"  est. {StatementCost.Format(costs.Sum(cost => cost.Seconds ?? 0))}" : "")}");
                lines.AddRange(costs.Select(cost => $"    {cost.Describe()}"));
                lines.AddRange(findings.Select(finding => $"    {finding}"));
            }
            lines.Add($"  scripts in all: est. {StatementCost.Format(EstimatedSeconds)}; {Refusals.Count()} statement(s) would fail, {Skipped.Count()} check(s) not derivable");
            return string.Join(Environment.NewLine, lines);
        }
    }

    /// After the snapshot: on a sample no bigger than the work it prices, so that a small plan pays milliseconds for it.
    static async Task<ServerThroughput?> MeasureAsync(Npgsql.NpgsqlConnection connection, long bytesWorked, CancellationToken cancellationToken)
    {
        try
        {
            return await ServerThroughput.MeasureAsync(connection, bytesWorked, cancellationToken);
        }
        catch (Npgsql.PostgresException exception)
        {
            Serilog.Log.Warning("The server's throughput could not be measured ({Reason}): the statements' costs are not estimated", exception.MessageText);
            return null;
        }
    }

    public static async Task<Report> RunAsync(
        string connectionString, UpgradePlan plan, SqlTools tools, TimeSpan statementTimeout, CancellationToken cancellationToken)
    {
        var statements = plan.Steps
            .SelectMany(planned => planned.Step is SqlScriptStep script
                ? script.Script.Statements.Select(statement => (Step: planned.Step, Statement: (SqlStatement?)statement))
                : [(planned.Step, null)])
            .ToList();
        var parsed = await StatementParser.ParseAsync(tools, statements.Where(item => item.Statement is not null).Select(item => item.Statement!.Text).ToList(), cancellationToken);

        await using var connection = await SafetyConnection.OpenAsync(connectionString, null, cancellationToken);
        await using var transaction = await GuardedQuery.BeginSnapshotAsync(connection, statementTimeout, "lock_timeout = '5s'", cancellationToken);
        var currentSchema = await connection.ExecuteScalarAsync<string>(new CommandDefinition("SELECT current_schema()", transaction: transaction, cancellationToken: cancellationToken));
        var schema = new PlanSchema(connection, transaction, currentSchema ?? "public");
        var checker = new DataChecker(new GuardedQuery(connection, transaction), schema, statementTimeout, cancellationToken);
        var estimates = new List<Func<ServerThroughput?, StatementCost>>();
        long bytesWorked = 0;

        var next = 0;
        foreach (var (step, statement) in statements)
        {
            if (statement is null)
            {
                schema.MayChangeAnything($"the C# step {step.DisplayName}");
                continue;
            }
            var at = new StatementSite(step.DisplayName, statement);
            var result = parsed[next++];
            if (result.Facts is not { } facts)
            {
                checker.Add(at, FindingSeverity.Error, "parse-error", $"PostgreSQL's parser rejects it: {result.Error}.",
                    "Correct the statement; it would fail inside the window.");
                continue;
            }
            await checker.CheckAsync(at, facts);
            var name = facts.Relation is { } relation ? await schema.ResolveAsync(relation, cancellationToken) : (TableName?)null;
            var table = name is { } resolved ? await schema.FindAsync(resolved, cancellationToken) : null;
            var bytesRead = await schema.BytesReadAsync(facts.Reads, cancellationToken);
            var volatileDefault = await schema.AnyVolatileAsync(facts.DefaultFunctions, cancellationToken);
            estimates.Add(throughput => StatementCost.Estimate(at, facts, name, table, volatileDefault, bytesRead, throughput));
            bytesWorked += bytesRead + (facts.Work.Count > 0 ? table?.Bytes ?? 0 : 0);
            await schema.ApplyAsync(facts, at.ToString(), cancellationToken);
            if (bytesRead > 0 && (facts.Relation ?? facts.Creates) is { } filled)
                await schema.GrowAsync(filled, bytesRead, cancellationToken);
        }
        await transaction.RollbackAsync(cancellationToken);
        var throughput = await MeasureAsync(connection, bytesWorked, cancellationToken);
        var costs = estimates.Select(estimate => estimate(throughput)).ToList();
        var findings = Allowances.Apply(checker.Findings, plan.Steps.Select(planned => planned.Step).OfType<SqlScriptStep>(), DataChecker.Rules.Contains);
        return new Report(findings, next, checker.Checked, costs, throughput);
    }
}
