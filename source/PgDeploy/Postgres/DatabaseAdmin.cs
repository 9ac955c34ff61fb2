using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using Serilog;

namespace PgDeploy.Postgres;

/// <summary>Creates and drops whole databases on any server where the connection's user may CREATE DATABASE.</summary>
public static class DatabaseAdmin
{
    private const int MaxIdentifierBytes = 63;

    /// <summary>Creates a database copied from <paramref name="template"/> (template0 unless given) and returns its name.</summary>
    public static async Task<string> CreateDatabaseAsync(
        string serverConnectionString, string? name = null, string? template = null, CancellationToken cancellationToken = default)
    {
        name ??= $"pgdeploy_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync(cancellationToken);
        await Execute(connection, $"CREATE DATABASE {QuoteIdentifier(name)} TEMPLATE {QuoteIdentifier(template ?? "template0")}", cancellationToken);
        Log.Debug("Created database {Database} on {Host}:{Port}", name, connection.Host, connection.Port);
        return name;
    }

    public static async Task<bool> ExistsAsync(string serverConnectionString, string name, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT FROM pg_database WHERE datname = @name)", new { name }, cancellationToken: cancellationToken));
    }

    /// <summary>pg_database_size of <paramref name="database"/>, or of the connection's own database when null.</summary>
    public static Task<long> SizeAsync(NpgsqlConnection connection, string? database = null, CancellationToken cancellationToken = default) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT pg_database_size(coalesce(@database, current_database()))", new { database }, cancellationToken: cancellationToken));

    /// <summary>Drops the database if it exists, ending its sessions first so a leaked connection cannot block the drop.</summary>
    public static async Task DropDatabaseAsync(string serverConnectionString, string name, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync(cancellationToken);
        if (connection.PostgreSqlVersion.Major >= 13)
        {
            await Execute(connection, $"DROP DATABASE IF EXISTS {QuoteIdentifier(name)} WITH (FORCE)", cancellationToken);
        }
        else
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @name AND pid <> pg_backend_pid()",
                new { name }, cancellationToken: cancellationToken));
            await Execute(connection, $"DROP DATABASE IF EXISTS {QuoteIdentifier(name)}", cancellationToken);
        }

        Log.Debug("Dropped database {Database} on {Host}:{Port}", name, connection.Host, connection.Port);
    }

    /// <summary>
    /// The database to stand on while acting on <paramref name="database"/> as a whole (creating, renaming, locking it):
    /// postgres, or template1 when the database is postgres itself.
    /// </summary>
    public static string MaintenanceDatabase(string database) => database == "postgres" ? "template1" : "postgres";

    /// <summary>The same server and credentials, pointed at another database.</summary>
    public static string WithDatabase(string connectionString, string database) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;

    /// <summary>Quotes an identifier for SQL; rejects names PostgreSQL would silently truncate, because the caller would then use the wrong name.</summary>
    public static string QuoteIdentifier(string identifier)
    {
        if (identifier.Length == 0 || identifier.Contains('\0') || Encoding.UTF8.GetByteCount(identifier) > MaxIdentifierBytes)
        {
            throw new ArgumentException(
                $"'{identifier.Replace("\0", "\\0")}' cannot be a PostgreSQL identifier: it must be 1 to {MaxIdentifierBytes} bytes of UTF-8 without NUL characters. Choose a shorter name.",
                nameof(identifier));
        }

        return $"\"{identifier.Replace("\"", "\"\"")}\"";
    }

    private static Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(sql, cancellationToken: cancellationToken));
}
