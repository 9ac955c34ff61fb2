using System.Security.Cryptography;
using Dapper;
using Npgsql;
using PgDeploy.Environments;
using PgDeploy.Postgres;
using PgDeploy.Safety.Fence;
using PgDeploy.Tests.Fixtures;

namespace PgDeploy.Tests.Safety.Fence;

/// A fresh database owned by an ordinary runner role (CREATEROLE, pg_signal_backend: what production
/// gives a deployment runner, no superuser), an application role with a password that may write one
/// table, and any further roles a test needs. Roles are cluster-wide, so every name is unique and all
/// of them are dropped at the end.
sealed class FenceScenario : IAsyncDisposable
{
    readonly string superuserConnectionString;
    readonly string password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
    readonly List<string> roles = [];

    FenceScenario(string superuserConnectionString) => this.superuserConnectionString = superuserConnectionString;

    public string Database => new NpgsqlConnectionStringBuilder(superuserConnectionString).Database!;
    public string Runner { get; private set; } = "";
    public string App { get; private set; } = "";

    public static async Task<FenceScenario> CreateAsync(PostgresFixture postgres)
    {
        var scenario = new FenceScenario(await postgres.CreateDatabaseAsync());
        scenario.Runner = await scenario.CreateRoleAsync("runner", "LOGIN CREATEROLE");
        scenario.App = await scenario.CreateRoleAsync("app", "LOGIN");
        await scenario.AsSuperuserAsync(
            $"""
            GRANT pg_signal_backend TO {scenario.Runner};
            ALTER DATABASE {DatabaseAdmin.QuoteIdentifier(scenario.Database)} OWNER TO {scenario.Runner};
            CREATE TABLE grades (student int, score int);
            GRANT SELECT, INSERT ON grades TO {scenario.App};
            """);
        return scenario;
    }

    /// A role with the given attributes and the scenario's password; names are lower case and need no quoting.
    public async Task<string> CreateRoleAsync(string purpose, string attributes)
    {
        var name = $"{purpose}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        await AsSuperuserAsync($"CREATE ROLE {name} {attributes} PASSWORD '{password}'");
        roles.Add(name);
        return name;
    }

    public WriteFence Fence(IReadOnlyList<string> appRoles, string? runner = null, TimeSpan? drainTimeout = null) =>
        new(ConnectionStringAs(runner ?? Runner), new FenceSettings { Roles = appRoles, SessionDrainTimeout = drainTimeout ?? TimeSpan.FromSeconds(10) });

    public string ConnectionStringAs(string role, string? applicationName = null, string? database = null) =>
        new NpgsqlConnectionStringBuilder(superuserConnectionString)
        {
            Username = role, Password = password, Pooling = false, ApplicationName = applicationName ?? "fence tests", Database = database ?? Database,
        }.ConnectionString;

    public async Task<NpgsqlConnection> ConnectAsync(string role, string? applicationName = null)
    {
        var connection = new NpgsqlConnection(ConnectionStringAs(role, applicationName));
        await connection.OpenAsync();
        return connection;
    }

    /// The superuser opts out of the guard rail, as the runner does, so that the tests can always look and clean up.
    public async Task AsSuperuserAsync(string sql)
    {
        await using var connection = await SuperuserAsync();
        await connection.ExecuteAsync(sql);
    }

    public async Task<T> QueryAsSuperuserAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await SuperuserAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    public Task<bool> CanLogInAsync(string role) =>
        QueryAsSuperuserAsync<bool>("SELECT rolcanlogin FROM pg_roles WHERE rolname = @role", new { role });

    async Task<NpgsqlConnection> SuperuserAsync()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(superuserConnectionString)
        {
            Pooling = false, Options = "-c default_transaction_read_only=off",
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        var list = string.Join(", ", roles);
        await AsSuperuserAsync(
            $"""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename IN ({string.Join(", ", roles.Select(role => $"'{role}'"))});
            REASSIGN OWNED BY {list} TO CURRENT_USER;
            DROP OWNED BY {list};
            DROP ROLE {list};
            """);
    }
}
