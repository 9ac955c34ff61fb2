using System.Text;
using System.Text.Json;
using PgDeploy.Deployments;

namespace PgDeploy.Reporting;

/// The report a person reads the morning after: outcome, what ran and how long, the safe harbor, every
/// check and the timeline, as Markdown and as JSON, beside the journal (outside the database).
public static class DeploymentReport
{
    /// <param name="targets">This process's targets; the Markdown shows those of every process of the deployment, from the journal.</param>
    public static (string Markdown, string Json) Write(DeploymentJournal journal, IReadOnlyList<TargetOutcome> targets, string outcome)
    {
        Directory.CreateDirectory(journal.RunDirectory);
        var markdown = Path.Combine(journal.RunDirectory, "report.md");
        var json = Path.Combine(journal.RunDirectory, "report.json");
        File.WriteAllText(markdown, Markdown(journal, outcome));
        File.WriteAllText(json, JsonSerializer.Serialize(new { outcome, targets, journal }, new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        }));
        return (markdown, json);
    }

    public static string Markdown(DeploymentJournal journal, string outcome)
    {
        var text = new StringBuilder();
        text.AppendLine($"# Deployment {journal.RunId} to {journal.Environment}");
        text.AppendLine();
        text.AppendLine($"**{outcome}**");
        text.AppendLine();
        text.AppendLine($"- Database: {journal.Database.Database} (cluster {journal.Database.SystemIdentifier})");
        text.AppendLine($"- Version: {journal.FromVersion ?? "empty"} -> {journal.TargetVersion}");
        text.AppendLine($"- Started: {journal.StartedAt:yyyy-MM-dd HH:mm:ss} UTC; state: {StateMachine.Describe(journal.State)}");
        if (StateMachine.IsActive(journal.State))
            text.AppendLine($"- Next: {StateMachine.NextCommand(journal.State, journal.FromVersion, journal.TargetVersion, journal.Environment)}");
        if (journal.SafeHarbor is { } dump)
            text.AppendLine($"- Safe harbor: `{dump}`");
        if (journal.Clone is { } clone)
            text.AppendLine($"- Safe harbor's clone: `{clone.Name}`, made {clone.MadeAt:HH:mm:ss} inside the fence{(clone.Gone ? "; no longer there" : "; still there")}");
        if (journal.FenceRaisedAt is { } raised)
            text.AppendLine($"- Maintenance window: fence raised {raised:HH:mm:ss}" +
                            (journal.FenceLiftedAt is { } lifted ? $", lifted {lifted:HH:mm:ss} ({(lifted - raised).TotalSeconds:0.0} s)" : ", still up"));
        text.AppendLine();
        text.AppendLine("| Target | Status | Duration | Finished (UTC) | Notes |");
        text.AppendLine("| --- | --- | ---: | --- | --- |");
        foreach (var target in journal.Targets)
            text.AppendLine($"| {target.Name} | {target.Status} | {target.Duration.TotalSeconds:0.0} s | {target.FinishedAt:HH:mm:ss} | {Cell(string.Join("; ", target.Notes))} |");
        if (journal.Checks.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("## Checks");
            text.AppendLine();
            text.AppendLine("| Check | Figure | Verdict | Detail |");
            text.AppendLine("| --- | ---: | --- | --- |");
            foreach (var check in journal.Checks)
                text.AppendLine($"| {Cell(check.Name)} | {Cell(check.Figure)} | {(check.Passed ? check.Verdict : "**FAILED**")} | {Cell(check.Detail)} |");
        }
        if (journal.Findings.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("## Findings in the scripts, before the fence");
            text.AppendLine();
            text.AppendLine("| Script | Line | Severity | Rule | Message | Acknowledged because |");
            text.AppendLine("| --- | ---: | --- | --- | --- | --- |");
            foreach (var finding in journal.Findings)
                text.AppendLine($"| {Cell(finding.Script)} | {finding.Line} | {finding.Severity.ToString().ToLowerInvariant()} | {Cell(finding.Rule)} | " +
                                $"{Cell(finding.Message)} | {Cell(finding.Acknowledged ?? "")} |");
        }
        text.AppendLine();
        text.AppendLine("## Timeline (UTC)");
        text.AppendLine();
        foreach (var entry in journal.Events)
            text.AppendLine($"- {entry.At:HH:mm:ss.fff} {entry.Target}: {entry.Message}");
        return text.ToString();
    }

    static string Cell(string text) => text.Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ");
}
