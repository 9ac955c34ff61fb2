using System.Data;
using System.Globalization;
using Npgsql;

namespace PgDeploy.Safety.Verification;

/// Runs the checks' queries inside the caller's transaction (the upgrade's, or a read-only snapshot),
/// each in a read-only savepoint that is always rolled back: a failing query then leaves the transaction
/// usable, and no check, not even a verify query that writes, can change what is about to be committed.
/// A PostgresException from a query reaches the caller only after the savepoint is rolled back.
sealed class GuardedQuery(NpgsqlConnection connection, NpgsqlTransaction transaction)
{
    const string Savepoint = "pgdeploy_verify";

    /// One REPEATABLE READ, read-only snapshot for a set of checks before the fence, each query bounded by <paramref name="statementTimeout"/>.
    /// <param name="setting">One more SET LOCAL the caller's checks need, e.g. "search_path = ''".</param>
    public static async Task<NpgsqlTransaction> BeginSnapshotAsync(NpgsqlConnection connection, TimeSpan statementTimeout, string setting, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using var command = new NpgsqlCommand(
            $"SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = {Math.Max(1, (long)statementTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}; SET LOCAL {setting}",
            connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return transaction;
    }

    /// <param name="Count">How many rows the query returned.</param>
    /// <param name="FirstRows">The first rows as text, e.g. "(id=7, email=NULL)".</param>
    public sealed record Sample(long Count, IReadOnlyList<string> FirstRows);

    /// <param name="Count">How many rows break the rule.</param>
    /// <param name="Examples">A few of their keys, e.g. "(account_id=7)".</param>
    public sealed record Rows(long Count, IReadOnlyList<string> Examples);

    /// Counts the rows of a FROM … WHERE clause and, only when there are any, reads a few distinct <paramref name="keys"/>
    /// of them: the usual answer, none, then costs one scan.
    public async Task<Rows> CountWithExamplesAsync(string fromWhere, string keys, int keep, CancellationToken cancellationToken)
    {
        var count = await CountAsync($"SELECT count(*) {fromWhere}", cancellationToken);
        if (count == 0)
            return new Rows(0, []);
        var examples = await SampleAsync($"SELECT DISTINCT {keys} {fromWhere} LIMIT {keep}", keep, cancellationToken);
        return new Rows(count, examples.FirstRows);
    }

    public Task<long> CountAsync(string sql, CancellationToken cancellationToken) =>
        RunAsync(sql, async (reader, token) => await reader.ReadAsync(token) ? reader.GetInt64(0) : 0, cancellationToken);

    public Task<Sample> SampleAsync(string sql, int keep, CancellationToken cancellationToken) =>
        RunAsync(sql, async (reader, token) =>
        {
            var count = 0L;
            var rows = new List<string>();
            while (await reader.ReadAsync(token))
            {
                if (count++ < keep)
                    rows.Add($"({string.Join(", ", Enumerable.Range(0, reader.FieldCount).Select(i => $"{reader.GetName(i)}={Text(reader, i)}"))})");
            }
            return new Sample(count, rows);
        }, cancellationToken);

    async Task<T> RunAsync<T>(string sql, Func<NpgsqlDataReader, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        await transaction.SaveAsync(Savepoint, cancellationToken);
        try
        {
            await using (var readOnly = new NpgsqlCommand("SET LOCAL transaction_read_only = on", connection, transaction))
                await readOnly.ExecuteNonQueryAsync(cancellationToken);
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await read(reader, cancellationToken);
        }
        finally
        {
            // Also undoes the SET LOCAL: the upgrade's transaction is read-write again.
            await transaction.RollbackAsync(Savepoint, cancellationToken);
        }
    }

    static string Text(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
            return "NULL";
        try
        {
            return reader.GetValue(ordinal) switch
            {
                DateTime time => time.ToString("O", CultureInfo.InvariantCulture),
                Array array => $"{{{string.Join(",", array.Cast<object?>().Select(item => Convert.ToString(item, CultureInfo.InvariantCulture)))}}}",
                var value => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
            };
        }
        catch (InvalidCastException)
        {
            // A type Npgsql cannot map (from an extension, say): the row still counts, its value is not shown.
            return $"<{reader.GetDataTypeName(ordinal)}>";
        }
    }
}
