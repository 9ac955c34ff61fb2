using Npgsql;

namespace PgDeploy.Safety;

/// <summary>
/// Opens the safe harbor's own sessions. They are not pooled: an idle pooled session would stay connected to the database and
/// block the rename that swaps a restored database in. A failure to connect says where and as whom, never with the password.
/// </summary>
static class SafetyConnection
{
    public static async Task<NpgsqlConnection> OpenAsync(string connectionString, string? database, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = "pgdeploy safe harbor" };
        if (database is not null)
        {
            builder.Database = database;
        }

        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            await connection.DisposeAsync();
            var reason = PasswordRedaction.Redact(exception.Message, builder.Password);
            throw new DeploymentException(
                $"Could not connect to database '{builder.Database}' on {builder.Host}:{builder.Port} as '{builder.Username}': {reason} "
                + "Check the connection URL, the password and that the server is up, then run again; nothing was changed.", exception);
        }
    }

    /// <summary>server_version_num and server_version, e.g. (150013, "15.13 (Debian 15.13-1)").</summary>
    public static async Task<(int Number, string Text)> ReadServerVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT current_setting('server_version_num')::int, current_setting('server_version')", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt32(0), reader.GetString(1));
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
