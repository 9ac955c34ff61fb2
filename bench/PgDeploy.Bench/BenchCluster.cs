using System.Diagnostics;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;

namespace PgDeploy.Bench;

/// <summary>
/// One figure's throwaway PostgreSQL (LocalCluster.StartTemporaryAsync: its own data directory and port, stopped and deleted at
/// the end), with the connection as libpq environment variables for the raw tools: the password never goes into an argument.
/// </summary>
sealed class BenchCluster : IAsyncDisposable
{
    readonly LocalCluster cluster;

    BenchCluster(LocalCluster cluster) => this.cluster = cluster;

    public LocalCluster Local => cluster;

    public static async Task<BenchCluster> StartAsync(bool durable)
    {
        var cluster = await LocalCluster.StartTemporaryAsync();
        var bench = new BenchCluster(cluster);
        if (durable)
        {
            await using var connection = await bench.OpenAsync();
            // All three are reloadable; ALTER SYSTEM overrides what LocalCluster appended to postgresql.conf.
            await connection.ExecuteAsync("ALTER SYSTEM SET fsync = on");
            await connection.ExecuteAsync("ALTER SYSTEM SET synchronous_commit = on");
            await connection.ExecuteAsync("ALTER SYSTEM SET full_page_writes = on");
            await connection.ExecuteAsync("SELECT pg_reload_conf()");
            await Task.Delay(500);
        }
        return bench;
    }

    public string ConnectionString(string database = "postgres") => cluster.ConnectionString(database);

    public async Task<NpgsqlConnection> OpenAsync(string database = "postgres")
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString(database)) { Pooling = false, CommandTimeout = 0 }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task<string> DescribeSettingsAsync()
    {
        await using var connection = await OpenAsync();
        var settings = await connection.QueryAsync<(string Name, string Setting)>(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size', 'work_mem', 'maintenance_work_mem') ORDER BY name");
        return string.Join(", ", settings.Select(setting => $"{setting.Name}={setting.Setting}"));
    }

    public async Task<string> ServerVersionAsync()
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<string>("SELECT version()") ?? "?";
    }

    /// <summary>Creates a database, from <paramref name="template"/> when given; returns how long it took.</summary>
    public async Task<TimeSpan> CreateDatabaseAsync(string name, string? template = null)
    {
        // A template may have no session: pooled ones of the setup would block the copy.
        if (template is not null)
            NpgsqlConnection.ClearAllPools();
        var clock = Stopwatch.StartNew();
        await using var connection = await OpenAsync();
        // FILE_COPY copies the files after a checkpoint instead of writing the whole copy into the WAL, which the next measurement would pay for.
        var strategy = template is not null && connection.PostgreSqlVersion.Major >= 15 ? " STRATEGY FILE_COPY" : "";
        await connection.ExecuteAsync($"CREATE DATABASE {DatabaseAdmin.QuoteIdentifier(name)} TEMPLATE {DatabaseAdmin.QuoteIdentifier(template ?? "template0")}{strategy}");
        return clock.Elapsed;
    }

    public async Task DropDatabaseAsync(string name)
    {
        NpgsqlConnection.ClearAllPools();
        await DatabaseAdmin.DropDatabaseAsync(ConnectionString(), name);
    }

    /// <summary>Drops every database whose name starts with <paramref name="prefix"/> (what a rollback kept for forensics).</summary>
    public async Task DropDatabasesLikeAsync(string prefix)
    {
        await using var connection = await OpenAsync();
        var names = (await connection.QueryAsync<string>("SELECT datname FROM pg_database WHERE starts_with(datname, @prefix)", new { prefix })).ToList();
        foreach (var name in names)
            await DropDatabaseAsync(name);
    }

    public async Task<long> DatabaseSizeAsync(string name)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT pg_database_size(@name)", new { name });
    }

    /// <summary>A checkpoint, so that one measurement does not pay for the dirty buffers of the one before.</summary>
    public async Task CheckpointAsync()
    {
        await using var connection = await OpenAsync();
        // Not through Dapper: it takes a command without whitespace for a stored procedure.
        await using var command = new NpgsqlCommand("CHECKPOINT", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The libpq variables of a raw tool's environment: every other PG* variable of this process is removed.</summary>
    public IReadOnlyDictionary<string, string?> LibpqEnvironment(string database)
    {
        var variables = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => name.StartsWith("PG", StringComparison.Ordinal))
            .ToDictionary(name => name, string? (_) => null);
        variables["PGHOST"] = cluster.Host;
        variables["PGPORT"] = cluster.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        variables["PGUSER"] = cluster.Username;
        variables["PGPASSWORD"] = cluster.Password;
        variables["PGDATABASE"] = database;
        return variables;
    }

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        return cluster.DisposeAsync();
    }
}
