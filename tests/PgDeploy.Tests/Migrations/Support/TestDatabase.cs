using Dapper;
using Npgsql;
using PgDeploy.Migrations;
using PgDeploy.Migrations.History;
using PgDeploy.Tests.Fixtures;

namespace PgDeploy.Tests.Migrations.Support;

/// <summary>A fresh database of the fixture's server, with the queries the tests ask of it. Every call uses a connection of its own.</summary>
internal sealed class TestDatabase(string connectionString)
{
    public string ConnectionString { get; } = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    public string Name => new NpgsqlConnectionStringBuilder(ConnectionString).Database!;

    public static async Task<TestDatabase> CreateAsync(PostgresFixture postgres) => new(await postgres.CreateDatabaseAsync());

    public async Task<NpgsqlConnection> OpenAsync(string applicationName = "pgdeploy-tests")
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { ApplicationName = applicationName }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task ExecuteAsync(string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync();
        await connection.ExecuteAsync(sql, parameters);
    }

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await OpenAsync();
        return (await connection.QueryAsync<T>(sql, parameters)).ToList();
    }

    public Task<bool> TableExistsAsync(string name) => ScalarAsync<bool>("SELECT to_regclass(@name) IS NOT NULL", new { name });

    public Task<bool> ColumnExistsAsync(string table, string column) => ScalarAsync<bool>(
        "SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_schema = 'public' AND table_name = @table AND column_name = @column)",
        new { table, column });

    public async Task<IReadOnlyList<HistoryRow>> HistoryAsync()
    {
        await using var connection = await OpenAsync();
        return await HistoryTable.ReadAsync(connection, null, CancellationToken.None);
    }

    /// <summary>Names of the successfully applied steps, as "v0.4/010_x.sql", in the order they were applied.</summary>
    public async Task<IReadOnlyList<string>> AppliedStepsAsync() =>
        (await HistoryAsync()).Where(row => row.Success).Select(row => $"v{row.Version}/{row.Name}").ToList();

    public async Task<AppVersion?> CurrentVersionAsync() => UpgradePlanner.CurrentVersion(await HistoryAsync());

    /// <summary>Whether another session could start a deployment now: it takes the deployment lock and gives it back.</summary>
    public async Task<bool> DeploymentLockIsFreeAsync()
    {
        try
        {
            await using var probe = await DeploymentLock.AcquireAsync(ConnectionString, "probe", TimeSpan.Zero, CancellationToken.None);
            return true;
        }
        catch (DeploymentRefusedException)
        {
            return false;
        }
    }

    /// <summary>Who holds the deployment lock of this database, as a refusal names it; null when it is free.</summary>
    public async Task<string?> DeploymentLockHolderAsync()
    {
        await using var connection = await OpenAsync();
        return await DeploymentLock.FindHolderAsync(connection, CancellationToken.None);
    }

    /// <summary>pg_dump of everything but the runner's own pgdeploy schema, which legitimately changes (it records failures too).</summary>
    public Task<string> DumpAsync(params string[] options) => PostgresClient.DumpAsync(ConnectionString, options);

    /// <summary>pg_dump of everything, the pgdeploy schema and its history included: what a restore must bring back exactly.</summary>
    public Task<string> DumpWholeAsync(params string[] options) => PostgresClient.DumpWholeAsync(ConnectionString, options);
}
