using Npgsql;

namespace PgDeploy.Safety.Fence;

/// The connection the fence writes the catalog through.
static class RunnerConnection
{
    /// A raised fence makes read-only the default of every new session on the database, the runner's
    /// included; re-raising or lifting it must still write, so the runner opts out at startup, as
    /// UpgradeSession does. No pooling: the fence's few connections close when it is done rather than
    /// linger in a pool as sessions on a database under maintenance.
    public static async Task<NpgsqlConnection> OpenAsync(string connectionString, string purpose, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = $"pgdeploy {purpose}", Pooling = false };
        builder.Options = $"{builder.Options} -c default_transaction_read_only=off".TrimStart();
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
