using System.Security.Cryptography;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;

namespace PgDeploy.Tests.Safety.Restore;

/// <summary>
/// Roles a test creates on the shared server, each under a name of its own. Disposing drops every database they own (originals,
/// restored and kept ones), which takes their objects and default privileges along, and then the roles.
/// </summary>
sealed class TestRoles(string serverConnectionString) : IAsyncDisposable
{
    readonly List<string> names = [];

    /// <param name="options">CREATE ROLE options, e.g. "LOGIN CREATEDB".</param>
    public async Task<string> CreateAsync(string prefix, string options = "")
    {
        var name = $"{prefix}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        await ExecuteAsync($"CREATE ROLE {name} {options}");
        names.Add(name);
        return name;
    }

    /// <summary>A role that logs in with a password and may create databases, but is no superuser; and a connection string as it.</summary>
    public async Task<(string Role, string ConnectionString)> CreateRunnerAsync(string databaseConnectionString)
    {
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var role = await CreateAsync("runner", $"LOGIN CREATEDB PASSWORD '{password}'");
        return (role, new NpgsqlConnectionStringBuilder(databaseConnectionString) { Username = role, Password = password }.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(serverConnectionString);
        var owned = await connection.QueryAsync<string>(
            "SELECT datname FROM pg_database WHERE pg_get_userbyid(datdba) = ANY(@names)", new { names = names.ToArray() });
        foreach (var database in owned)
        {
            await DatabaseAdmin.DropDatabaseAsync(serverConnectionString, database);
        }

        foreach (var name in Enumerable.Reverse(names))
        {
            await ExecuteAsync($"DROP ROLE IF EXISTS {name}");
        }
    }

    async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.ExecuteAsync(sql);
    }
}
