using System.Text.Json;
using Dapper;
using Npgsql;

namespace PgDeploy.Safety.Fence;

/// Keeps the fence record in the database's COMMENT, in the catalog rather than in the runner's memory,
/// so that it survives a crash of the runner and MaintenanceOff can lift the fence later by hand.
///
/// Why the comment and not a custom setting (ALTER DATABASE db SET pgdeploy.fence = '...'): on
/// PostgreSQL 15 a placeholder such as pgdeploy.fence may be set per database only by a superuser or a
/// role a superuser has given GRANT SET ON PARAMETER (a non-superuser owner gets "permission denied to
/// set parameter", and cannot even RESET a value a superuser set); the comment needs nothing beyond
/// owning the database, which ALTER DATABASE ... SET default_transaction_read_only needs anyway. Like
/// that setting, a database comment is dumped by pg_dump only with --create, so the safe harbor taken
/// inside the fence does not carry the record into a restore. A table would be dumped, and writing it
/// would need the schema to exist. The operator's own comment is kept in the record and put back on lift.
static class FenceRecordStore
{
    const string Prefix = "pgdeploy write fence, lift with ./build.sh MaintenanceOff: ";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <param name="Record">The fence record, if the comment holds one.</param>
    /// <param name="OtherComment">The comment when it is not a fence record: the operator's, to be kept.</param>
    public sealed record Stored(FenceRecord? Record, string? OtherComment);

    public static async Task<Stored> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var comment = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()",
            transaction: transaction, cancellationToken: cancellationToken));
        if (comment is null || !comment.StartsWith(Prefix, StringComparison.Ordinal))
            return new Stored(null, comment);
        try
        {
            return new Stored(JsonSerializer.Deserialize<FenceRecord>(comment[Prefix.Length..], Json), null);
        }
        catch (JsonException exception)
        {
            throw new DeploymentException(
                $"The write fence record in the comment of database '{connection.Database}' is damaged ({exception.Message}), so the runner cannot tell " +
                "which roles the fence disabled. Check the application's roles with \\du, give back LOGIN to those that should have it " +
                "(ALTER ROLE ... LOGIN), then ALTER DATABASE ... RESET default_transaction_read_only and COMMENT ON DATABASE ... IS NULL.", exception);
        }
    }

    public static Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string database, FenceRecord record, CancellationToken cancellationToken) =>
        SetCommentAsync(connection, transaction, database, Prefix + JsonSerializer.Serialize(record, Json), cancellationToken);

    public static Task RemoveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string database, FenceRecord record, CancellationToken cancellationToken) =>
        SetCommentAsync(connection, transaction, database, record.PreviousComment, cancellationToken);

    // %L renders null as NULL, which removes the comment.
    static Task SetCommentAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string database, string? comment, CancellationToken cancellationToken) =>
        CatalogCommand.ExecuteAsync(connection, transaction, "COMMENT ON DATABASE %I IS %L", [database, comment], cancellationToken);
}
