using System.Text;

namespace PgDeploy.Safety.Verification;

/// Every check the verifier ran, in order, with a summary line and a Markdown table for the deployment report.
public sealed record IntegrityReport(IReadOnlyList<CheckResult> Checks)
{
    public IReadOnlyList<CheckResult> Failures => [.. Checks.Where(check => check.Verdict == Verdict.Failed)];

    public bool Passed => Failures.Count == 0;

    public string Summary
    {
        get
        {
            var informational = Checks.Count(check => check.Verdict == Verdict.Informational);
            var notes = informational == 0 ? "" : $", {informational} informational";
            return Passed
                ? $"Integrity verified: {Checks.Count} checks, none failed{notes}."
                : $"Integrity verification failed: {Failures.Count} of {Checks.Count} checks failed ({string.Join("; ", Failures.Select(check => check.Name))}){notes}.";
        }
    }

    public string ToMarkdown()
    {
        var markdown = new StringBuilder()
            .AppendLine("| Check | Figure | Verdict | Detail |")
            .AppendLine("|---|---|---|---|");
        foreach (var check in Checks)
            markdown.AppendLine($"| {Cell(check.Name)} | {Cell(check.Figure)} | {Cell(check.Verdict.ToString().ToLowerInvariant())} | {Cell(check.Detail)} |");
        return markdown.AppendLine().AppendLine(Summary).ToString();
    }

    /// Fails the deployment when a check failed.
    /// <param name="commits">The truth about what is committed and what happens next; only the caller knows it
    /// when commit points or earlier stages committed part of the upgrade.</param>
    public void ThrowIfFailed(string commits = "The upgrade is not committed.")
    {
        if (!Passed)
            throw new DeploymentException(
                $"{Summary} {commits} {string.Join(" ", Failures.Select(check => $"{check.Name}: {check.Figure}, {check.Detail.TrimEnd('.')}."))} " +
                "Fix the migration or post-processing step that produced this (or the expectation in the version's verify folder, if it is wrong) and deploy again.");
    }

    // A cell may not contain a pipe or a line break in a Markdown table.
    static string Cell(string text) => text.Replace("|", "\\|").ReplaceLineEndings("<br>");
}
