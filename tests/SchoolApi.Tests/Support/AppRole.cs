using System.Security.Cryptography;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;

namespace SchoolApi.Tests.Support;

/// The API's database role, like production's school_app: LOGIN, and only the grants the API needs. Unique per test
/// because roles are cluster-wide; dropped with its grants afterwards.
sealed class AppRole : IAsyncDisposable
{
    readonly string ownerConnectionString;

    AppRole(string ownerConnectionString, string name, string password)
    {
        this.ownerConnectionString = ownerConnectionString;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(ownerConnectionString) { Username = name, Password = password }.ConnectionString;
    }

    public string Name { get; }

    /// What SCHOOL_DB holds: the sample database, as this role.
    public string ConnectionString { get; }

    /// <param name="ownerConnectionString">The database, as the user that made it.</param>
    public static async Task<AppRole> CreateAsync(string ownerConnectionString, string version)
    {
        var name = $"school_app_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5))}";
        var password = $"pw-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
        var role = DatabaseAdmin.QuoteIdentifier(name);
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.ExecuteAsync($"""
            CREATE ROLE {role} LOGIN PASSWORD '{password}';
            GRANT USAGE ON SCHEMA pgdeploy TO {role};
            GRANT SELECT ON pgdeploy.history TO {role};
            GRANT SELECT ON users, terms, classes, enrollments TO {role};
            """);
        if (version == "0.4")
            await connection.ExecuteAsync($"GRANT SELECT, INSERT ON assignments TO {role}");
        return new AppRole(ownerConnectionString, name, password);
    }

    /// What the deployment's fence does: no new sessions for the role, and its open ones ended.
    public async Task FenceAsync(bool fenced)
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.ExecuteAsync($"ALTER ROLE {DatabaseAdmin.QuoteIdentifier(Name)} {(fenced ? "NOLOGIN" : "LOGIN")}");
        if (fenced)
            await connection.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = @Name", new { Name });
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = @Name", new { Name });
        await connection.ExecuteAsync($"DROP OWNED BY {DatabaseAdmin.QuoteIdentifier(Name)}");
        await connection.ExecuteAsync($"DROP ROLE {DatabaseAdmin.QuoteIdentifier(Name)}");
    }
}
