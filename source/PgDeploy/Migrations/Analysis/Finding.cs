namespace PgDeploy.Migrations.Analysis;

/// Error refuses the deployment before the fence; Warning is shown and allowed; Info says what was not checked, and why.
public enum FindingSeverity { Error, Warning, Info }

/// <summary>
/// One thing the analysis before the fence found in a pending script: from the linter (squawk) or from the target
/// database (data checks, missing objects). Each names the script, the line and the statement, and says what to do.
/// </summary>
/// <param name="Rule">The squawk rule, or the data check ("unique", "not-null", ...): what a `-- deploy:allow` directive names.</param>
/// <param name="Acknowledged">The reason given by a `-- deploy:allow &lt;rule&gt; because …` directive; an acknowledged error no longer refuses.</param>
public sealed record Finding(
    FindingSeverity Severity, string Rule, string Script, int Line, string Statement, string Message, string Fix, string? Acknowledged = null)
{
    public bool Refuses => Severity == FindingSeverity.Error && Acknowledged is null;

    /// The statement's first line, shortened: enough to find it in the script.
    public string StatementExcerpt => Statement.Split('\n')[0].Trim() is var first && first.Length > 80 ? first[..77] + "..." : Statement.Split('\n')[0].Trim();

    public override string ToString() =>
        $"{Script}:{Line}: {Severity.ToString().ToLowerInvariant()} [{Rule}] {Message}" +
        (Fix.Length > 0 ? $" Fix: {Fix}" : "") +
        (Acknowledged is null ? "" : $" (acknowledged: {Acknowledged})");
}
