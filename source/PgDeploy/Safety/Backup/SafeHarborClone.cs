using System.Net;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;
using Serilog;

namespace PgDeploy.Safety;

/// <summary>Whether clone+dump can run on this server, and why (not).</summary>
/// <param name="Possible">The runner may clone the database and the server's disk has room for the copy.</param>
/// <param name="Reason">What was found, for the prerequisites' list or the log line that says why a dump is taken instead.</param>
/// <param name="RoomUnknown">Allowed but for the disk, which cannot be seen from here: an operator who states clone+dump vouches for it.</param>
public sealed record CloneCheck(bool Possible, string Reason, bool RoomUnknown = false);

/// <summary>Whether the server's disk has room for a copy: unknown (null) where its files cannot be seen from here.</summary>
public sealed record ServerRoom(bool? Enough, string Reason);

/// <summary>The database had sessions the fence does not end when it was to be cloned: nothing was cloned or changed.</summary>
public sealed class CloneInUseException(string message, string sessions, Exception innerException) : DeploymentException(message, innerException)
{
    public string Sessions { get; } = sessions;
}

/// <summary>
/// The first safe harbor of backup.mode clone+dump: CREATE DATABASE … TEMPLATE copies the fenced database's files (about 1 s per GB,
/// against 8 s for pg_dump -j2), so the maintenance window holds no dump; the verified dump is taken from the clone after the window.
/// A template may have no other session while it is copied, the runner's own included, so everything here runs from the maintenance
/// database. The clone is made with connections off, and before they are allowed for its dump, CONNECT is revoked from PUBLIC: the
/// application's roles can log in again by then, and must not reach it.
/// </summary>
public static class SafeHarborClone
{
    /// <summary>Free space the server's disk must keep beyond the copy, as a share of its size: WAL and the application need it too.</summary>
    const double DiskReserve = 0.10;

    /// <summary>Whether the runner may clone the connection's database (CREATEDB, and owning it) and the server's disk, seen from here, has room.</summary>
    public static async Task<CloneCheck> CheckAsync(string connectionString, CancellationToken cancellationToken)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var maintenance = await SafetyConnection.OpenAsync(connectionString, DatabaseAdmin.MaintenanceDatabase(database), cancellationToken);
        var facts = await maintenance.QuerySingleAsync<(string Runner, bool MayCreate, bool OwnsDatabase, long Size, string? Tablespace)>(new CommandDefinition(
            """
            SELECT current_user, (SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user),
                   pg_has_role(current_user, d.datdba, 'USAGE'), pg_database_size(d.oid), nullif(pg_tablespace_location(d.dattablespace), '')
            FROM pg_database d WHERE d.datname = @database
            """, new { database }, cancellationToken: cancellationToken));
        if (!facts.MayCreate)
            return new CloneCheck(false, $"the runner '{facts.Runner}' may not create databases (ALTER ROLE {facts.Runner} CREATEDB allows it)");
        if (!facts.OwnsDatabase)
            return new CloneCheck(false, $"the runner '{facts.Runner}' does not own database '{database}', and only its owner may use it as a template");
        var room = await ServerRoomAsync(maintenance, facts.Tablespace, facts.Size, $"a copy of the {Megabytes(facts.Size)} database", cancellationToken);
        return new CloneCheck(room.Enough == true, room.Reason, RoomUnknown: room.Enough is null);
    }

    /// <summary>Whether the server's disk, seen from here, has room for <paramref name="bytes"/> more with a reserve kept free; unknown (null) for a server elsewhere.</summary>
    public static async Task<ServerRoom> CheckServerRoomAsync(string connectionString, long bytes, string what, CancellationToken cancellationToken)
    {
        await using var maintenance = await SafetyConnection.OpenAsync(
            connectionString, DatabaseAdmin.MaintenanceDatabase(new NpgsqlConnectionStringBuilder(connectionString).Database ?? ""), cancellationToken);
        return await ServerRoomAsync(maintenance, null, bytes, what, cancellationToken);
    }

    static async Task<ServerRoom> ServerRoomAsync(NpgsqlConnection maintenance, string? tablespace, long bytes, string what, CancellationToken cancellationToken)
    {
        if (!IsLocal(maintenance.Host))
            return new ServerRoom(null, $"the server {maintenance.Host} is not on this machine, so the room for {what} on its disk cannot be checked from here");
        var directory = tablespace ?? await DataDirectoryAsync(maintenance, cancellationToken);
        if (directory is null || !Directory.Exists(directory))
            return new ServerRoom(null, $"the server's data directory cannot be seen from here (the runner '{maintenance.UserName}' needs pg_read_all_settings to read it)");
        var disk = new DriveInfo(directory);
        var needed = bytes + (long)(disk.TotalSize * DiskReserve);
        return disk.AvailableFreeSpace < needed
            ? new ServerRoom(false, $"the server's disk at {directory} has {Megabytes(disk.AvailableFreeSpace)} free, and {what} " +
                                    $"with {DiskReserve:P0} of the disk kept free needs {Megabytes(needed)}")
            : new ServerRoom(true, $"{Megabytes(disk.AvailableFreeSpace)} free on the server's disk at {directory} for {what}");
    }

    /// <summary>Copies <paramref name="database"/> into <paramref name="clone"/>, with connections off; one left by a killed run is made again.</summary>
    /// <returns>The clone's size in bytes.</returns>
    public static async Task<long> CreateAsync(string connectionString, string database, string clone, CancellationToken cancellationToken)
    {
        var maintenanceConnectionString = DatabaseAdmin.WithDatabase(connectionString, DatabaseAdmin.MaintenanceDatabase(database));
        await DatabaseAdmin.DropDatabaseAsync(maintenanceConnectionString, clone, cancellationToken);
        await using var maintenance = await SafetyConnection.OpenAsync(maintenanceConnectionString, null, cancellationToken);
        // FILE_COPY (15+; the only way before it) copies files after a checkpoint instead of WAL-logging every block.
        var strategy = maintenance.PostgreSqlVersion.Major >= 15 ? " STRATEGY FILE_COPY" : "";
        try
        {
            await SafetyConnection.ExecuteAsync(maintenance,
                $"CREATE DATABASE {DatabaseAdmin.QuoteIdentifier(clone)} TEMPLATE {DatabaseAdmin.QuoteIdentifier(database)}{strategy} ALLOW_CONNECTIONS false",
                cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.ObjectInUse)
        {
            var sessions = await DatabaseSwap.DescribeSessionsAsync(maintenance, database, database, cancellationToken);
            throw new CloneInUseException(
                $"Database '{database}' could not be cloned into the safe harbor '{clone}': {exception.MessageText.TrimEnd('.')}, and CREATE DATABASE … TEMPLATE " +
                $"needs it to itself. Still connected: {sessions}. " +
                "The fence ended the sessions of the roles in fence.roles; end these (SELECT pg_terminate_backend(<pid>)) or add their roles to fence.roles, " +
                "or set backup.mode to dump, then run again. Nothing of the upgrade was applied.", sessions, exception);
        }

        return await DatabaseAdmin.SizeAsync(maintenance, clone, cancellationToken);
    }

    /// <summary>
    /// The sessions on <paramref name="database"/> that the fence will not end (roles outside <paramref name="fencedRoles"/>; the tool's
    /// own, named "pgdeploy …", aside), described for the operator, or null: each one still there at Backup keeps the clone from starting.
    /// </summary>
    public static async Task<string?> DescribeUnfencedSessionsAsync(
        string connectionString, string database, IReadOnlyCollection<string> fencedRoles, CancellationToken cancellationToken)
    {
        await using var maintenance = await SafetyConnection.OpenAsync(connectionString, DatabaseAdmin.MaintenanceDatabase(database), cancellationToken);
        var sessions = (await maintenance.QueryAsync<(int Pid, string? User, string? Application, string? Client)>(new CommandDefinition(
            """
            SELECT pid, usename, application_name, host(client_addr) FROM pg_stat_activity
            WHERE datname = @database AND backend_type = 'client backend' AND NOT (usename = ANY(@fencedRoles))
              AND application_name NOT LIKE 'pgdeploy %'
            ORDER BY pid
            """, new { database, fencedRoles = fencedRoles.ToArray() }, cancellationToken: cancellationToken))).ToList();
        return sessions.Count == 0
            ? null
            : string.Join("; ", sessions.Select(session => $"pid {session.Pid} (user {session.User}, '{session.Application}', from {session.Client ?? "a local socket"})"));
    }

    /// <summary>Lets the runner's pg_dump in, and nobody else but superusers: CONNECT and TEMPORARY are revoked from PUBLIC first.</summary>
    public static async Task OpenForDumpAsync(string connectionString, string database, string clone, CancellationToken cancellationToken)
    {
        await using var maintenance = await SafetyConnection.OpenAsync(connectionString, DatabaseAdmin.MaintenanceDatabase(database), cancellationToken);
        var name = DatabaseAdmin.QuoteIdentifier(clone);
        await SafetyConnection.ExecuteAsync(maintenance, $"REVOKE CONNECT, TEMPORARY ON DATABASE {name} FROM PUBLIC", cancellationToken);
        await SafetyConnection.ExecuteAsync(maintenance, $"ALTER DATABASE {name} ALLOW_CONNECTIONS true", cancellationToken);
    }

    public static async Task<bool> ExistsAsync(string connectionString, string database, string clone, CancellationToken cancellationToken) =>
        await DatabaseAdmin.ExistsAsync(DatabaseAdmin.WithDatabase(connectionString, DatabaseAdmin.MaintenanceDatabase(database)), clone, cancellationToken);

    public static async Task DropAsync(string connectionString, string database, string clone, CancellationToken cancellationToken)
    {
        await DatabaseAdmin.DropDatabaseAsync(DatabaseAdmin.WithDatabase(connectionString, DatabaseAdmin.MaintenanceDatabase(database)), clone, cancellationToken);
        Log.Debug("Dropped the safe harbor's clone {Clone}", clone);
    }

    /// <summary>Drops the clones of <paramref name="database"/> other than <paramref name="current"/>: kept by earlier deployments (backup.keepClone).</summary>
    /// <returns>The names dropped.</returns>
    public static async Task<IReadOnlyList<string>> DropEarlierAsync(string connectionString, string database, string current, CancellationToken cancellationToken)
    {
        var maintenanceConnectionString = DatabaseAdmin.WithDatabase(connectionString, DatabaseAdmin.MaintenanceDatabase(database));
        IReadOnlyList<string> earlier;
        await using (var maintenance = await SafetyConnection.OpenAsync(maintenanceConnectionString, null, cancellationToken))
            earlier = [.. await maintenance.QueryAsync<string>(new CommandDefinition(
                "SELECT datname FROM pg_database WHERE starts_with(datname, @prefix) AND datname <> @current ORDER BY 1",
                new { prefix = $"{database}__harbor_", current }, cancellationToken: cancellationToken))];
        foreach (var clone in earlier)
            await DatabaseAdmin.DropDatabaseAsync(maintenanceConnectionString, clone, cancellationToken);
        return earlier;
    }

    /// <summary>A Unix socket or a loopback address: the server's files are on this machine's disks.</summary>
    static bool IsLocal(string? host) =>
        host is null || host.StartsWith('/') || host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));

    static async Task<string?> DataDirectoryAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.ExecuteScalarAsync<string>(new CommandDefinition("SELECT current_setting('data_directory')", cancellationToken: cancellationToken));
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            return null;
        }
    }

    static string Megabytes(long bytes) => $"{bytes / 1024.0 / 1024.0:N0} MiB";
}
