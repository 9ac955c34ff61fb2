namespace PgDeploy.Migrations;

/// Timeouts of the upgrade. The defaults suit a fenced database: locks should be free, so waiting long
/// for one means something is wrong, while data steps legitimately run for a long time.
public sealed record MigrationSettings
{
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(3);
    public int LockRetries { get; init; } = 5;
    public TimeSpan ScriptStatementTimeout { get; init; } = TimeSpan.FromMinutes(15);
    public TimeSpan DataStepStatementTimeout { get; init; } = TimeSpan.FromHours(2);
    public TimeSpan DeploymentLockWait { get; init; } = TimeSpan.FromSeconds(60);
    public int DegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}
