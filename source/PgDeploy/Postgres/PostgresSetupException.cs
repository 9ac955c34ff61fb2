namespace PgDeploy.Postgres;

/// <summary>A local PostgreSQL installation, cluster or connection setting is unusable; the message names the fix.</summary>
public sealed class PostgresSetupException(string message) : DeploymentException(message);
