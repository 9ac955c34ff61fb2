using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;
using Serilog;

namespace PgDeploy.Migrations;

/// One deployment at a time per database: a session-level advisory lock held on a connection of its own to the
/// server's maintenance database, keyed by the target database's name. Not on the target database itself: a
/// rollback swaps that database out by name, which ends every session on it, and the lock must outlive the swap.
/// It is polled with pg_try_advisory_lock, never waited for with pg_advisory_lock: a blocked waiter holds a
/// snapshot that a CREATE INDEX CONCURRENTLY in the running deployment would wait on forever. A runner that dies
/// closes its connection, and the server releases the lock with it. A fleet's run holds one of its own, keyed by
/// its environment, so that two runs of a fleet never deploy its databases side by side.
public sealed class DeploymentLock : IAsyncDisposable
{
    /// What the lock is held for: the first key is the kind ("pgdp" a database, "pgdf" a fleet), the second the name, hashed.
    readonly record struct Subject(int Namespace, string Name, string Described)
    {
        public static Subject Database(string database) => new(0x7067_6470, database, $"database '{database}'");

        public static Subject Fleet(string environment) => new(0x7067_6466, environment, $"fleet '{environment}'");

        /// Stable across runs, machines and .NET versions, unlike string.GetHashCode.
        public int Key => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(Name)), 0);
    }

    readonly string connectionString;
    readonly string runId;
    readonly Subject subject;
    NpgsqlConnection connection;

    DeploymentLock(NpgsqlConnection connection, string connectionString, string runId, Subject subject)
    {
        this.connection = connection;
        this.connectionString = connectionString;
        this.runId = runId;
        this.subject = subject;
    }

    public static async Task<DeploymentLock> AcquireAsync(
        string connectionString, string runId, TimeSpan timeout, CancellationToken cancellationToken, TimeSpan? pollInterval = null)
    {
        var subject = Subject.Database(DatabaseOf(connectionString));
        var connection = await LockConnectionAsync(connectionString, subject, runId, timeout, pollInterval ?? TimeSpan.FromSeconds(1), cancellationToken);
        return new DeploymentLock(connection, connectionString, runId, subject);
    }

    /// <summary>The lock of a fleet's run, on the server of <paramref name="connectionString"/>.</summary>
    public static async Task<DeploymentLock> AcquireFleetAsync(
        string connectionString, string environment, string runId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var subject = Subject.Fleet(environment);
        var connection = await LockConnectionAsync(connectionString, subject, runId, timeout, TimeSpan.FromSeconds(1), cancellationToken);
        return new DeploymentLock(connection, connectionString, runId, subject);
    }

    /// Takes the lock again when its session ended under it (the server restarted): anyone may have taken it since.
    public async Task EnsureHeldAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
            return;
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException or ObjectDisposedException)
        {
            Log.Warning("The deployment lock's session ended ({Reason}); taking the lock again", exception.Message);
        }
        await connection.DisposeAsync();
        connection = await LockConnectionAsync(connectionString, subject, runId, timeout, TimeSpan.FromSeconds(1), cancellationToken);
    }

    static async Task<NpgsqlConnection> LockConnectionAsync(
        string connectionString, Subject subject, string runId, TimeSpan timeout, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        var maintenance = DatabaseAdmin.MaintenanceDatabase(DatabaseOf(connectionString));
        var builder = new NpgsqlConnectionStringBuilder(DatabaseAdmin.WithDatabase(connectionString, maintenance))
        {
            // TCP keepalives rather than Npgsql's KeepAlive query, which can race a command on the same connection (see UpgradeSession).
            ApplicationName = $"pgdeploy lock {runId}", Pooling = false, TcpKeepAlive = true, TcpKeepAliveTime = 30, TcpKeepAliveInterval = 10,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        try
        {
            var deadline = DateTime.UtcNow + timeout;
            var announced = false;
            while (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                       "SELECT pg_try_advisory_lock(@Namespace, @Key)", subject, cancellationToken: cancellationToken)))
            {
                var holder = await DescribeHolderAsync(connection, subject, maintenance, cancellationToken);
                if (DateTime.UtcNow >= deadline)
                    throw new DeploymentRefusedException(
                        $"Another run holds the deployment lock of {subject.Described}: {holder}. Waited {timeout.TotalSeconds:0} s; nothing was changed. " +
                        "Wait for that run to finish (./build.sh Status shows what it is doing), or, if its runner is gone and the session lingers, " +
                        "end the session with SELECT pg_terminate_backend(<pid>) and run again.");
                if (!announced)
                    Log.Warning("Waiting up to {Timeout} s for the deployment lock held by {Holder}", (int)timeout.TotalSeconds, holder);
                announced = true;
                await Task.Delay(pollInterval, cancellationToken);
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// Who holds the lock of the connection's database, or null; any session on the server can ask.
    public static async Task<string?> FindHolderAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var holder = await DescribeHolderAsync(connection, Subject.Database(connection.Database), DatabaseAdmin.MaintenanceDatabase(connection.Database), cancellationToken);
        return holder == UnknownHolder ? null : holder;
    }

    const string UnknownHolder = "a session that has already ended";

    static async Task<string> DescribeHolderAsync(NpgsqlConnection connection, Subject subject, string maintenance, CancellationToken cancellationToken)
    {
        // A lock on two int4 keys is stored as classid (first) and objid (second) with objsubid 2.
        var holder = await connection.QueryFirstOrDefaultAsync<(int Pid, string? ApplicationName, string? User, DateTime? Since, string? Client)>(new CommandDefinition(
            """
            SELECT a.pid, a.application_name, a.usename, a.backend_start, host(a.client_addr)
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
              AND l.classid = (@Namespace::bigint & 4294967295)::oid AND l.objid = (@Key::bigint & 4294967295)::oid
              AND l.database = (SELECT oid FROM pg_database WHERE datname = @maintenance)
            """, new { subject.Namespace, subject.Key, maintenance }, cancellationToken: cancellationToken));
        return holder.Pid == 0
            ? UnknownHolder
            : $"pid {holder.Pid} ('{holder.ApplicationName}', user {holder.User}, connected since {holder.Since:yyyy-MM-dd HH:mm:ss} from {holder.Client ?? "a local socket"})";
    }


    static string DatabaseOf(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString).Database is { Length: > 0 } database
            ? database
            : throw new DeploymentRefusedException("The connection string names no database, so there is nothing to deploy to. Add the database to the URL; nothing was changed.");

    public async ValueTask DisposeAsync()
    {
        // Closing the session releases the lock even if the unlock below cannot be sent.
        try { await connection.ExecuteAsync("SELECT pg_advisory_unlock(@Namespace, @Key)", subject); }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException) { }
        await connection.DisposeAsync();
    }
}
