namespace PgDeploy.Migrations;

/// A step that failed, with the parts of its message apart: a deployment that spans several processes knows
/// better than this session what is committed, and says that instead of <see cref="SessionCommits"/>.
public sealed class StepFailedException : DeploymentException
{
    internal StepFailedException(StepFailure failure, string undone, string sessionCommits, MigrationStep step, Exception innerException)
        : base($"{failure.Headline} {undone} {sessionCommits} {failure.Remedy}", innerException)
    {
        Step = step;
        SqlState = failure.SqlState;
        Statement = failure.Statement;
        Headline = failure.Headline;
        Undone = undone;
        SessionCommits = sessionCommits;
        Remedy = failure.Remedy;
    }

    public MigrationStep Step { get; }
    public string? SqlState { get; }
    public string? Statement { get; }
    /// Where and what: "v0.4/020_x.sql at line 3 failed with 23505: ...".
    public string Headline { get; }
    /// What the failure itself undid: the open transaction, or nothing for a statement outside one.
    public string Undone { get; }
    /// What this session had committed before the failure.
    public string SessionCommits { get; }
    public string Remedy { get; }
}
