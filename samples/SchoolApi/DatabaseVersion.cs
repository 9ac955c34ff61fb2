using Dapper;
using Npgsql;

namespace SchoolApi;

/// The version the database is at, as the deployment tool records it: the highest version in pgdeploy.history
/// with a successful row, baselines included. A build runs only against the version it was written for.
public static class DatabaseVersion
{
    public const int WrongVersionExitCode = 3;
    public const int UnavailableExitCode = 4;

    /// The database's version ("0.4"), or null when the deployment tool never recorded one.
    public static async Task<string?> ReadAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        IEnumerable<string> versions;
        try
        {
            versions = await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT DISTINCT version FROM pgdeploy.history WHERE success", cancellationToken: cancellationToken));
        }
        catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            return null;
        }

        // Compared as versions, not as text: 0.10 comes after 0.9.
        return versions.Select(text => Version.TryParse(text, out var version) ? version : null).Max()?.ToString();
    }

    /// Why this build must not start against the database (with the process's exit code), or null if it may.
    public static async Task<(int ExitCode, string Message)?> RefusalAsync(NpgsqlDataSource database, string appVersion, CancellationToken cancellationToken)
    {
        string? databaseVersion;
        try
        {
            databaseVersion = await ReadAsync(database, cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            return (UnavailableExitCode,
                $"The school API's database role may not read the deployment history ({exception.MessageText}): " +
                "grant it USAGE ON SCHEMA pgdeploy and SELECT ON pgdeploy.history.");
        }
        catch (NpgsqlException exception)
        {
            // Where, not how: the connection string's password must never reach a log.
            var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
            return (UnavailableExitCode,
                $"Cannot reach the school database {target.Database} on {target.Host}:{target.Port} as {target.Username}: " +
                $"{exception.Message.TrimEnd('.')}. Check SCHOOL_DB and that PostgreSQL is running.");
        }

        if (databaseVersion is null)
            return (WrongVersionExitCode,
                $"The database has no deployment history (no successful row in pgdeploy.history), so its version is unknown and this " +
                $"{appVersion} build of the school API will not guess: deploy it with ./build.sh Deploy, or record its version with ./build.sh Baseline.");
        if (databaseVersion != appVersion)
            return (WrongVersionExitCode,
                $"The database is at {databaseVersion} but this is the {appVersion} build of the school API: " +
                "deploy the matching version or revert the code (see the deployment guide).");
        return null;
    }
}
