using Dapper;
using Npgsql;
using PgDeploy.Tests.Fixtures;

namespace SchoolApi.Tests.Support;

/// One build of the API running against the sample school at the same version, as its own application role.
sealed class RunningApi : IAsyncDisposable
{
    RunningApi(string database, AppRole role, ApiProcess api)
    {
        Database = database;
        Role = role;
        Api = api;
    }

    /// The sample database, as its owner (for the tests' own queries).
    public string Database { get; }

    public AppRole Role { get; }

    public ApiProcess Api { get; }

    public HttpClient Http => Api.Http;

    public static async Task<RunningApi> StartAsync(PostgresFixture postgres, string version)
    {
        var database = await SchoolDatabases.AtAsync(postgres, version);
        var role = await AppRole.CreateAsync(database, version);
        try
        {
            return new RunningApi(database, role, await ApiProcess.StartAsync(version, role.ConnectionString));
        }
        catch
        {
            await role.DisposeAsync();
            throw;
        }
    }

    public async Task<T> QuerySingleAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(Database);
        return await connection.QuerySingleAsync<T>(sql, parameters);
    }

    public async Task<List<T>> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(Database);
        return (await connection.QueryAsync<T>(sql, parameters)).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        await Role.DisposeAsync();
    }
}
