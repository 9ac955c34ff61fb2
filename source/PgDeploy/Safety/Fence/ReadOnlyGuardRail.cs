using Dapper;
using Npgsql;

namespace PgDeploy.Safety.Fence;

/// ALTER DATABASE ... SET default_transaction_read_only = on: new sessions start read-only by default.
/// A guard rail, not the fence: it binds new sessions only, and any client may SET it off or BEGIN READ
/// WRITE. It catches a session of a role missing from the fence's list that writes by mistake.
static class ReadOnlyGuardRail
{
    const string Setting = "default_transaction_read_only";

    /// The database's own value of the setting (null: none), so that lifting the fence can restore it.
    public static Task<string?> ReadDatabaseValueAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            """
            SELECT substr(entry, length(@Setting) + 2)
            FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) entry
            WHERE d.datname = current_database() AND s.setrole = 0 AND entry LIKE @Setting || '=%'
            """, new { Setting }, transaction, cancellationToken: cancellationToken));

    public static Task RaiseAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string database, CancellationToken cancellationToken) =>
        CatalogCommand.ExecuteAsync(connection, transaction, $"ALTER DATABASE %I SET {Setting} = on", [database], cancellationToken);

    public static Task RestoreAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string database, string? previous, CancellationToken cancellationToken) =>
        previous is null
            ? CatalogCommand.ExecuteAsync(connection, transaction, $"ALTER DATABASE %I RESET {Setting}", [database], cancellationToken)
            : CatalogCommand.ExecuteAsync(connection, transaction, $"ALTER DATABASE %I SET {Setting} = %L", [database, previous], cancellationToken);
}
