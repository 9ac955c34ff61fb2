using Dapper;
using Npgsql;

namespace PgDeploy.Migrations;

/// nextval is not transactional: a rolled-back upgrade would leave every sequence it drew from advanced, a trace in
/// pg_dump (setval) and a gap in the keys. The values taken when the upgrade's transaction begins are put back after
/// a rollback. Only sequences that moved are reset, and the database is fenced during a deployment, so no other
/// session draws from them meanwhile.
sealed class SequenceSnapshot
{
    readonly IReadOnlyList<SequenceValue> values;

    SequenceSnapshot(IReadOnlyList<SequenceValue> values) => this.values = values;

    public static async Task<SequenceSnapshot> TakeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var sequences = (await connection.QueryAsync<(long Oid, string Name)>(new CommandDefinition(
            """
            SELECT c.oid::bigint, format('%I.%I', n.nspname, c.relname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
              AND has_table_privilege(c.oid, 'SELECT, UPDATE')
            ORDER BY c.oid
            """, cancellationToken: cancellationToken))).ToList();
        return new SequenceSnapshot(await ReadAsync(connection, sequences, cancellationToken));
    }

    public async Task RestoreAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var now = await ReadAsync(connection, values.Select(value => (value.Oid, value.Name)).ToList(), cancellationToken);
        var moved = values.Except(now).ToList();
        if (moved.Count == 0)
            return;
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT setval(s.oid::oid, s.last_value, s.is_called) FROM unnest(@Oids, @LastValues, @IsCalled) AS s(oid, last_value, is_called)",
            new { Oids = moved.Select(value => value.Oid).ToArray(), LastValues = moved.Select(value => value.LastValue).ToArray(), IsCalled = moved.Select(value => value.IsCalled).ToArray() },
            cancellationToken: cancellationToken));
    }

    static async Task<IReadOnlyList<SequenceValue>> ReadAsync(NpgsqlConnection connection, List<(long Oid, string Name)> sequences, CancellationToken cancellationToken)
    {
        if (sequences.Count == 0)
            return [];
        var sql = string.Join(" UNION ALL ", sequences.Select((sequence, index) => $"SELECT {index} AS index, last_value, is_called FROM {sequence.Name}"));
        var rows = await connection.QueryAsync<(int Index, long LastValue, bool IsCalled)>(new CommandDefinition(sql, cancellationToken: cancellationToken));
        return rows.Select(row => new SequenceValue(sequences[row.Index].Oid, sequences[row.Index].Name, row.LastValue, row.IsCalled)).ToList();
    }

    sealed record SequenceValue(long Oid, string Name, long LastValue, bool IsCalled);
}
