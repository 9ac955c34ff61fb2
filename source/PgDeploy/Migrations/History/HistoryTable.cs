using Dapper;
using Npgsql;

namespace PgDeploy.Migrations.History;

/// The history lives in its own schema so that it never collides with the application's objects.
/// Successful rows are written inside the upgrade transaction (they vanish with it on rollback);
/// failures are written on a separate autocommit connection so that they survive the rollback.
public sealed class HistoryTable
{
    public const string Schema = "pgdeploy";
    public const string QualifiedName = Schema + ".history";

    // installed_rank is max+1 under the deployment lock rather than a sequence: nextval is not
    // transactional, and a rolled-back upgrade must leave no trace in a pg_dump.
    const string CreateSql = $"""
        CREATE SCHEMA IF NOT EXISTS {Schema};
        CREATE TABLE IF NOT EXISTS {QualifiedName} (
            installed_rank  integer PRIMARY KEY,
            version         text        NOT NULL,
            name            text        NOT NULL,
            kind            text        NOT NULL CHECK (kind IN ('sql', 'csharp', 'baseline')),
            checksum        text,
            applied_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
            duration_ms     bigint      NOT NULL DEFAULT 0,
            applied_by      text        NOT NULL,
            run_id          text        NOT NULL,
            success         boolean     NOT NULL,
            error_sqlstate  text,
            error_statement text,
            error_message   text
        );
        COMMENT ON TABLE {QualifiedName} IS 'Scripts and steps applied by the deployment runner; the application version is the highest version applied successfully.';
        """;

    public static async Task<bool> ExistsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT to_regclass(@name) IS NOT NULL", new { name = QualifiedName }, transaction, cancellationToken: cancellationToken));

    public static Task EnsureCreatedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(CreateSql, transaction: transaction, cancellationToken: cancellationToken));

    public static async Task<IReadOnlyList<HistoryRow>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(connection, transaction, cancellationToken))
            return [];
        var rows = await connection.QueryAsync<HistoryRow>(new CommandDefinition(
            $"""
            SELECT installed_rank AS InstalledRank, version, name, kind, checksum, applied_at AS AppliedAt,
                   duration_ms AS DurationMs, applied_by AS AppliedBy, run_id AS RunId, success,
                   error_sqlstate AS ErrorSqlState, error_statement AS ErrorStatement, error_message AS ErrorMessage
            FROM {QualifiedName} ORDER BY installed_rank
            """, transaction: transaction, cancellationToken: cancellationToken));
        return rows.ToList();
    }

    public static Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, HistoryEntry entry, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO {QualifiedName} (installed_rank, applied_at, version, name, kind, checksum, duration_ms, applied_by, run_id, success,
                                         error_sqlstate, error_statement, error_message)
            SELECT coalesce(max(installed_rank), 0) + 1, coalesce(@AppliedAt, clock_timestamp()), @Version, @Name, @Kind, @Checksum, @DurationMs, @AppliedBy, @RunId, @Success,
                   @ErrorSqlState, @ErrorStatement, @ErrorMessage
            FROM {QualifiedName}
            """, entry, transaction, cancellationToken: cancellationToken));
}

/// <param name="AppliedAt">Null: now. A failure written back into a restored database keeps the time it happened.</param>
public sealed record HistoryEntry(
    string Version, string Name, string Kind, string? Checksum, long DurationMs, string AppliedBy, string RunId, bool Success,
    string? ErrorSqlState = null, string? ErrorStatement = null, string? ErrorMessage = null, DateTime? AppliedAt = null)
{
    public static HistoryEntry From(HistoryRow row) =>
        new(row.Version, row.Name, row.Kind, row.Checksum, row.DurationMs, row.AppliedBy, row.RunId, row.Success,
            row.ErrorSqlState, row.ErrorStatement, row.ErrorMessage, row.AppliedAt);
}
