using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CliWrap;
using CliWrap.Buffered;

namespace PgDeploy.Migrations.Analysis;

/// <summary>
/// Lints every pending SQL script of a plan with the pinned squawk, tuned by <see cref="LintRules"/>: scripts that run in the
/// upgrade's transaction are linted as such (--assume-in-transaction), no-transaction scripts as the autocommit statements they are,
/// and squawk is told the server's version, so that its advice fits the database it will run on.
/// </summary>
public sealed class ScriptLinter(SqlTools tools)
{
    public async Task<LintReport> LintAsync(UpgradePlan plan, MigrationCatalog catalog, Version serverVersion, CancellationToken cancellationToken)
    {
        tools.EnsureInstalled();
        var scripts = plan.Steps.Select(planned => planned.Step).OfType<SqlScriptStep>()
            .ToDictionary(step => Path.GetFullPath(Path.Combine(catalog.Find(step.Version)!.Directory, step.FileName)));
        var findings = new List<Finding>();
        foreach (var group in scripts.GroupBy(script => script.Value.RunsOutsideTransaction))
        {
            var json = await RunAsync(
                [
                    "--reporter", "json", "--pg-version", $"{serverVersion.Major}.{Math.Max(serverVersion.Minor, 0)}",
                    .. LintRules.Excluded.Select(rule => $"--exclude={rule}"),
                    .. group.Key ? Array.Empty<string>() : ["--assume-in-transaction"],
                    .. group.Select(script => script.Key),
                ], cancellationToken);
            findings.AddRange(FindingsOf(json, scripts));
        }
        var version = (await RunAsync(["--version"], cancellationToken)).Trim();
        return new LintReport(version, Allowances.Apply(findings, scripts.Values, rule => !DataChecker.Rules.Contains(rule)));
    }

    /// squawk's JSON (0-based lines) as findings of the scripts it names, with the statement at each line; squawk's findings on two
    /// columns of one line are one finding here.
    internal static IEnumerable<Finding> FindingsOf(string json, IReadOnlyDictionary<string, SqlScriptStep> scripts) =>
        (JsonSerializer.Deserialize<List<SquawkViolation>>(json) ?? []).Select(violation =>
        {
            var step = scripts[violation.File];
            var line = violation.Line + 1;
            var rule = LintRules.Of(violation.RuleName);
            return new Finding(rule.Severity ?? FindingSeverity.Warning, violation.RuleName, step.DisplayName, line,
                step.Script.Statements.LastOrDefault(statement => statement.Line <= line)?.Text ?? "",
                violation.Message, rule.Fix ?? violation.Help ?? "");
        }).Distinct();

    /// squawk exits 1 when it found something, so its output, not its exit code, says whether it ran.
    async Task<string> RunAsync(string[] arguments, CancellationToken cancellationToken)
    {
        // Its working directory holds no .squawk.toml: LintRules is the one place the rules are tuned.
        var result = await tools.Command(tools.Squawk).WithArguments(arguments)
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(Encoding.UTF8, cancellationToken);
        return result.ExitCode is 0 or 1 && result.StandardOutput.Length > 0
            ? result.StandardOutput
            : throw new DeploymentException(
                $"squawk ({tools.Squawk}) failed with exit code {result.ExitCode}: {result.StandardError.Trim()} " +
                $"Reinstall the SQL tools with 'npm install --no-save' in {tools.Directory}, or run ./build.sh again.");
    }

    sealed record SquawkViolation(
        [property: JsonPropertyName("file")] string File,
        [property: JsonPropertyName("line")] int Line,
        [property: JsonPropertyName("message")] string Message,
        [property: JsonPropertyName("help")] string? Help,
        [property: JsonPropertyName("rule_name")] string RuleName);
}

/// <param name="Tool">What linted, as it names itself: "squawk 2.66.0".</param>
public sealed record LintReport(string Tool, IReadOnlyList<Finding> Findings)
{
    public string Figure =>
        $"{Tool}: {Count(FindingSeverity.Warning)} warning(s), {Count(FindingSeverity.Error)} error(s)" +
        $" ({Findings.Count(finding => finding.Acknowledged is not null)} acknowledged)";

    int Count(FindingSeverity severity) => Findings.Count(finding => finding.Severity == severity);

    /// Every finding that refuses, with its fix, in one paragraph per finding: the operator fixes them all in one round trip.
    public void ThrowIfRefused()
    {
        var refusing = Findings.Where(finding => finding.Refuses).ToList();
        if (refusing.Count == 0)
            return;
        throw new DeploymentException(
            $"{Tool} found {refusing.Count} error(s) in the pending scripts, each of which would fail the upgrade or lose data: " +
            string.Join(" ", refusing.Select(finding => $"{finding.Script}:{finding.Line} [{finding.Rule}] {finding.Message} Fix: {finding.Fix}")) +
            " Fix the script, or, when it is meant, acknowledge it in the script's leading comments with " +
            "'-- deploy:allow <rule> because <reason>'; the reason goes into the deployment report.");
    }
}
