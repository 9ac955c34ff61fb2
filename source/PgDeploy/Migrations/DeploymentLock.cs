using Dapper;
using Npgsql;
using Serilog;

namespace PgDeploy.Migrations;

/// One deployment at a time per database: a session-level advisory lock held on a connection of its own.
/// It is polled with pg_try_advisory_lock, never waited for with pg_advisory_lock: a blocked waiter holds a
/// snapshot that a CREATE INDEX CONCURRENTLY in the running deployment would wait on forever. A runner that
/// dies closes its connection, and the server releases the lock with it.
public sealed class DeploymentLock : IAsyncDisposable
{
    // "pgdeploy" as a bigint: the key every runner agrees on.
    public const long Key = 0x7067_6465_706C_6F79;

    readonly NpgsqlConnection connection;

    DeploymentLock(NpgsqlConnection connection) => this.connection = connection;

    public static async Task<DeploymentLock> AcquireAsync(
        string connectionString, string runId, TimeSpan timeout, CancellationToken cancellationToken, TimeSpan? pollInterval = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = $"pgdeploy lock {runId}", Pooling = false, KeepAlive = 30 };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        try
        {
            var deadline = DateTime.UtcNow + timeout;
            var announced = false;
            while (!await TryLockAsync(connection, cancellationToken))
            {
                var holder = await DescribeHolderAsync(connection, cancellationToken);
                if (DateTime.UtcNow >= deadline)
                    throw new DeploymentException(
                        $"Another deployment holds the deployment lock on database '{connection.Database}': {holder}. " +
                        $"Waited {timeout.TotalSeconds:0} s; nothing was changed. Wait for that deployment to finish, or, if its runner is gone " +
                        "and the session lingers, end the session with SELECT pg_terminate_backend(<pid>) and run again.");
                if (!announced)
                    Log.Warning("Waiting up to {Timeout} s for the deployment lock held by {Holder}", (int)timeout.TotalSeconds, holder);
                announced = true;
                await Task.Delay(pollInterval ?? TimeSpan.FromSeconds(1), cancellationToken);
            }
            return new DeploymentLock(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public static async Task<string?> FindHolderAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var holder = await DescribeHolderAsync(connection, cancellationToken);
        return holder == UnknownHolder ? null : holder;
    }

    static Task<bool> TryLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(@Key)", new { Key }, cancellationToken: cancellationToken));

    const string UnknownHolder = "a session that has already ended";

    static async Task<string> DescribeHolderAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // A bigint key is stored as classid (high half) and objid (low half) with objsubid 1.
        var holder = await connection.QueryFirstOrDefaultAsync<(int Pid, string? ApplicationName, string? User, DateTime? Since, string? Client)>(new CommandDefinition(
            """
            SELECT a.pid, a.application_name, a.usename, a.backend_start, host(a.client_addr)
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.classid = (@Key >> 32)::oid AND l.objid = (@Key & 4294967295)::oid
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, new { Key }, cancellationToken: cancellationToken));
        return holder.Pid == 0
            ? UnknownHolder
            : $"pid {holder.Pid} ('{holder.ApplicationName}', user {holder.User}, connected since {holder.Since:yyyy-MM-dd HH:mm:ss} from {holder.Client ?? "a local socket"})";
    }

    public async ValueTask DisposeAsync()
    {
        // Closing the session releases the lock even if the unlock below cannot be sent.
        try { await connection.ExecuteAsync("SELECT pg_advisory_unlock(@Key)", new { Key }); }
        catch (NpgsqlException) { }
        await connection.DisposeAsync();
    }
}
