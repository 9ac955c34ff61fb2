using Npgsql;
using PgDeploy.Migrations.Scripts;

namespace PgDeploy.Safety.Verification;

/// The version's own checks: each verify/*.sql file holds one query that returns the rows that should
/// not exist, so it passes when it returns none.
static class VerifyQueryChecks
{
    const int RowsShown = 3;

    public static async Task<IReadOnlyList<CheckResult>> RunAsync(string verifyDirectory, GuardedQuery query, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(verifyDirectory))
            return [];
        var checks = new List<CheckResult>();
        foreach (var path in Directory.GetFiles(verifyDirectory, "*.sql").Order(StringComparer.Ordinal))
        {
            var name = $"Verify query {Path.GetFileName(path)}";
            var statements = SqlScriptParser.Parse(await File.ReadAllTextAsync(path, cancellationToken)).Statements;
            if (statements.Count != 1)
            {
                checks.Add(CheckResult.Of(name, CheckResult.Counted(statements.Count, "statement"), passed: false,
                    $"{path} must hold exactly one query (the rows that should not exist); put each query in a file of its own"));
                continue;
            }
            try
            {
                var sample = await query.SampleAsync(statements[0].Text, RowsShown, cancellationToken);
                checks.Add(sample.Count == 0
                    ? CheckResult.Of(name, CheckResult.Counted(0, "row"), passed: true, "")
                    : CheckResult.Of(name, CheckResult.Counted(sample.Count, "row"), passed: false,
                        $"returned {sample.Count} row(s) that should not exist; first: {string.Join("; ", sample.FirstRows)}"));
            }
            catch (PostgresException exception)
            {
                checks.Add(CheckResult.QueryFailed(name, exception));
            }
        }
        return checks;
    }
}
