using Npgsql;
using PgDeploy.Postgres;
using Serilog;

namespace PgDeploy.Deployments;

/// The database a deployment acts on: how to reach it and which database it is. Its sessions are not pooled: an
/// idle pooled session would linger on a fenced database and block the rename that swaps a restored one in.
sealed class DeploymentSite
{
    static readonly TimeSpan ServerRestartWait = TimeSpan.FromSeconds(90);

    DeploymentSite(string connectionString, DatabaseIdentity identity)
    {
        ConnectionString = connectionString;
        Identity = identity;
    }

    public string ConnectionString { get; }
    public DatabaseIdentity Identity { get; }

    public static async Task<DeploymentSite> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(connectionString, "pgdeploy", writable: false, retryWhileStarting: false, cancellationToken);
        return new DeploymentSite(connectionString, await DatabaseIdentity.ReadAsync(connection, cancellationToken));
    }

    /// A session for reading; after a crash of the server, <paramref name="retryWhileStarting"/> waits for it to accept connections again.
    public Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken, bool retryWhileStarting = false) =>
        ConnectAsync(ConnectionString, "pgdeploy", writable: false, retryWhileStarting, cancellationToken);

    /// A session that may write on the fenced database, whose default for new sessions is read-only.
    public Task<NpgsqlConnection> OpenWritableAsync(CancellationToken cancellationToken) =>
        ConnectAsync(ConnectionString, "pgdeploy", writable: true, retryWhileStarting: true, cancellationToken);

    static async Task<NpgsqlConnection> ConnectAsync(
        string connectionString, string applicationName, bool writable, bool retryWhileStarting, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = applicationName, Pooling = false };
        if (writable)
            builder.Options = $"{builder.Options} -c default_transaction_read_only=off".TrimStart();
        var deadline = DateTime.UtcNow + (retryWhileStarting ? ServerRestartWait : TimeSpan.Zero);
        for (var announced = false; ; announced = true)
        {
            var connection = new NpgsqlConnection(builder.ConnectionString);
            try
            {
                await connection.OpenAsync(cancellationToken);
                return connection;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                await connection.DisposeAsync();
                if (DateTime.UtcNow < deadline && IsTransient(exception))
                {
                    if (!announced)
                        Log.Warning("The server does not accept connections ({Reason}); waiting up to {Seconds} s for it to come back", exception.Message, (int)ServerRestartWait.TotalSeconds);
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                    continue;
                }
                throw new DeploymentException(
                    $"Could not connect to database '{builder.Database}' on {builder.Host}:{builder.Port} as '{builder.Username}': {exception.Message.TrimEnd('.')}. " +
                    "Check the connection URL, the password and that the server is up, then run again.", exception);
            }
        }
    }

    /// Starting up, shutting down, in recovery, or not listening yet: what a crash and restart look like from outside.
    static bool IsTransient(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown }
        || exception is NpgsqlException { InnerException: System.Net.Sockets.SocketException or IOException }
        || exception is TimeoutException;

    public string MaintenanceConnectionString => DatabaseAdmin.WithDatabase(ConnectionString, DatabaseAdmin.MaintenanceDatabase(Identity.Database));
}
