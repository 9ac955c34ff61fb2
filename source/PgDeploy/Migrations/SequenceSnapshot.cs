using Dapper;
using Npgsql;

namespace PgDeploy.Migrations;

/// A sequence's value, by its qualified name.
public sealed record SequenceValue(string Name, long LastValue, bool IsCalled);

/// nextval is not transactional: a rolled-back upgrade would leave every sequence it drew from advanced, a trace in
/// pg_dump (setval) and a gap in the keys. The values taken when the upgrade's transaction begins are put back after
/// a rollback; a deployment also keeps them in its journal, for an upgrade rolled back by a kill or a crash. Only
/// sequences that moved are reset, and the database is fenced during a deployment, so no other session draws from
/// them meanwhile.
public sealed class SequenceSnapshot
{
    SequenceSnapshot(IReadOnlyList<SequenceValue> values) => Values = values;

    public IReadOnlyList<SequenceValue> Values { get; }

    public static SequenceSnapshot From(IReadOnlyList<SequenceValue> values) => new(values);

    public static async Task<SequenceSnapshot> TakeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var sequences = (await connection.QueryAsync<string>(new CommandDefinition(
            """
            SELECT format('%I.%I', n.nspname, c.relname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
              AND has_table_privilege(c.oid, 'SELECT, UPDATE')
            ORDER BY c.oid
            """, cancellationToken: cancellationToken))).ToList();
        return new SequenceSnapshot(await ReadAsync(connection, sequences, cancellationToken));
    }

    /// Puts back each sequence that still exists and moved; one the upgrade dropped was rolled back with it.
    public async Task RestoreAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var existing = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT name FROM unnest(@names) AS name WHERE to_regclass(name) IS NOT NULL",
            new { names = Values.Select(value => value.Name).ToArray() }, cancellationToken: cancellationToken))).ToList();
        var now = await ReadAsync(connection, existing, cancellationToken);
        var moved = Values.Where(value => existing.Contains(value.Name)).Except(now).ToList();
        if (moved.Count == 0)
            return;
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT setval(s.name::regclass, s.last_value, s.is_called) FROM unnest(@Names, @LastValues, @IsCalled) AS s(name, last_value, is_called)",
            new { Names = moved.Select(value => value.Name).ToArray(), LastValues = moved.Select(value => value.LastValue).ToArray(), IsCalled = moved.Select(value => value.IsCalled).ToArray() },
            cancellationToken: cancellationToken));
    }

    static async Task<IReadOnlyList<SequenceValue>> ReadAsync(NpgsqlConnection connection, List<string> sequences, CancellationToken cancellationToken)
    {
        if (sequences.Count == 0)
            return [];
        var sql = string.Join(" UNION ALL ", sequences.Select((sequence, index) => $"SELECT {index} AS index, last_value, is_called FROM {sequence}"));
        var rows = await connection.QueryAsync<(int Index, long LastValue, bool IsCalled)>(new CommandDefinition(sql, cancellationToken: cancellationToken));
        return rows.Select(row => new SequenceValue(sequences[row.Index], row.LastValue, row.IsCalled)).ToList();
    }
}
