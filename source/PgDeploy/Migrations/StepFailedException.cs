namespace PgDeploy.Migrations;

public sealed class StepFailedException(string message, MigrationStep step, string? sqlState, string? statement, Exception innerException)
    : DeploymentException(message, innerException)
{
    public MigrationStep Step { get; } = step;
    public string? SqlState { get; } = sqlState;
    public string? Statement { get; } = statement;
}
