using System.Security.Cryptography;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd.Support;

/// <summary>
/// The application's database role: a LOGIN role with a password, unique per test because roles are cluster-wide. It gets
/// read and write rights on every table and sequence the runner creates in the test database (default privileges), so it
/// can write at v0.1 and at v0.2 alike, and it is dropped with its privileges at the end.
/// </summary>
internal sealed class AppRole
{
    private readonly string serverConnectionString;
    private readonly TestDatabase database;

    private AppRole(string serverConnectionString, TestDatabase database, string name, string password)
    {
        this.serverConnectionString = serverConnectionString;
        this.database = database;
        Name = name;
        Password = password;
    }

    public string Name { get; }

    public string Password { get; }

    /// <summary>What the application would connect with: the test database, as this role, without pooling.</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder(database.ConnectionString)
    {
        Username = Name,
        Password = Password,
        ApplicationName = "school-app",
        Pooling = false,
    }.ConnectionString;

    /// <param name="runner">The role the build connects as: the tables it creates are the ones the application must reach.</param>
    public static async Task<AppRole> CreateAsync(string serverConnectionString, TestDatabase database, string runner)
    {
        var name = $"app_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5))}";
        var password = $"app-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
        await using (var server = await OpenAsync(serverConnectionString))
        {
            await server.ExecuteAsync($"CREATE ROLE {Quote(name)} LOGIN PASSWORD '{password}'");
        }

        await database.ExecuteAsync($"""
            ALTER DEFAULT PRIVILEGES FOR ROLE {Quote(runner)} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {Quote(name)};
            ALTER DEFAULT PRIVILEGES FOR ROLE {Quote(runner)} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {Quote(name)};
            """);
        return new AppRole(serverConnectionString, database, name, password);
    }

    public async Task<NpgsqlConnection> OpenAsync() => await OpenAsync(ConnectionString);

    /// <summary>False when the server refuses the role's login (the fence's NOLOGIN); any other failure is the test's problem and is thrown.</summary>
    public async Task<bool> CanLogInAsync()
    {
        try
        {
            await using var connection = await OpenAsync();
            return true;
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InvalidAuthorizationSpecification)
        {
            return false;
        }
    }

    /// <summary>What the application does at v0.1: enrols a student under one full name; returns the serial key it got.</summary>
    public async Task<int> EnrolAtV01Async(string fullName)
    {
        await using var connection = await OpenAsync();
        return await connection.ExecuteScalarAsync<int>("INSERT INTO students (full_name) VALUES (@fullName) RETURNING id", new { fullName });
    }

    /// <summary>What the application does at v0.2: enrols a student with split names and an e-mail, in one transaction.</summary>
    public async Task<int> EnrolAtV02Async(string firstName, string lastName)
    {
        await using var connection = await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var id = await connection.ExecuteScalarAsync<int>(
            "INSERT INTO students (first_name, last_name) VALUES (@firstName, @lastName) RETURNING id", new { firstName, lastName }, transaction);
        await connection.ExecuteAsync(
            "INSERT INTO student_emails (student_id, email) VALUES (@id, @email)", new { id, email = $"{firstName.ToLowerInvariant()}.{id}@school.example" }, transaction);
        await transaction.CommitAsync();
        return id;
    }

    /// <summary>Drops the role after what it holds in the test database (grants, default privileges); its sessions are ended first.</summary>
    public async Task DropAsync()
    {
        await using var server = await OpenAsync(serverConnectionString);
        await server.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = @Name", new { Name });
        await using (var owner = await database.OpenAsync())
        {
            // A test that failed half-way may leave the fence's read-only default on the database.
            await owner.ExecuteAsync("SET default_transaction_read_only = off");
            await owner.ExecuteAsync($"DROP OWNED BY {Quote(Name)}");
        }

        await server.ExecuteAsync($"DROP ROLE {Quote(Name)}");
    }

    private static string Quote(string identifier) => DatabaseAdmin.QuoteIdentifier(identifier);

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }
}
