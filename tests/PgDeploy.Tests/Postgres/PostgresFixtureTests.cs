using Dapper;
using Npgsql;
using PgDeploy.Postgres;
using PgDeploy.Tests.Fixtures;
using Xunit.Abstractions;

namespace PgDeploy.Tests.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PostgresFixtureTests(PostgresFixture postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task Creates_empty_databases_that_do_not_see_each_other()
    {
        output.WriteLine($"PostgreSQL backend: {postgres.Backend}");
        var first = await postgres.CreateDatabaseAsync();
        var second = await postgres.CreateDatabaseAsync();

        await using var firstConnection = new NpgsqlConnection(first);
        await using var secondConnection = new NpgsqlConnection(second);
        await firstConnection.ExecuteAsync("CREATE TABLE only_in_first (id int)");

        const string countTables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'";
        Assert.NotEqual(firstConnection.Database, secondConnection.Database);
        Assert.Equal(1, await firstConnection.ExecuteScalarAsync<int>(countTables));
        Assert.Equal(0, await secondConnection.ExecuteScalarAsync<int>(countTables));
    }

    [Fact]
    public async Task Drops_a_database_even_while_a_session_is_connected_to_it()
    {
        const string name = "dropped \"while\" connected";
        await DatabaseAdmin.CreateDatabaseAsync(postgres.ServerConnectionString, name);
        await using var session = new NpgsqlConnection(DatabaseAdmin.WithDatabase(postgres.ServerConnectionString, name));
        await session.OpenAsync();

        await DatabaseAdmin.DropDatabaseAsync(postgres.ServerConnectionString, name);

        await using var server = new NpgsqlConnection(postgres.ServerConnectionString);
        Assert.Equal(0, await server.ExecuteScalarAsync<int>("SELECT count(*) FROM pg_database WHERE datname = @name", new { name }));
    }

    [Fact]
    public async Task Server_is_reachable_through_a_percent_encoded_url()
    {
        var server = new NpgsqlConnectionStringBuilder(postgres.ServerConnectionString);
        var url = $"postgres://{Uri.EscapeDataString(server.Username!)}:{Uri.EscapeDataString(server.Password!)}"
            + $"@{server.Host}:{server.Port}/{Uri.EscapeDataString(server.Database!)}?application_name=pgdeploy-tests";

        await using var connection = new NpgsqlConnection(PostgresUrl.ToNpgsqlConnectionString(url));

        Assert.Equal("pgdeploy-tests", await connection.ExecuteScalarAsync<string>("SHOW application_name"));
    }
}
