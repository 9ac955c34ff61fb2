using Npgsql;
using PgDeploy.Postgres;

namespace PgDeploy.Safety;

/// <summary>
/// Exact row counts (count(*), never the reltuples estimate) of every ordinary and partitioned table outside the system schemas.
/// Tables that belong to an extension are left out: CREATE EXTENSION makes them, and pg_dump does not dump their rows.
/// </summary>
static class RowCounter
{
    const string TablesSql =
        """
        SELECT n.nspname, c.relname, c.relkind = 'p',
               CASE WHEN n.nspname = 'public' THEN '' ELSE quote_ident(n.nspname) || '.' END || quote_ident(c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1, 2
        """;

    /// <summary>Counts in the connection's current transaction, so inside an exported snapshot the counts match the dump.</summary>
    public static async Task<IReadOnlyList<TableRowCount>> CountAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var tables = new List<(string Schema, string Table, bool Partitioned, string Name)>();
        await using (var command = new NpgsqlCommand(TablesSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                tables.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), reader.GetString(3)));
            }
        }

        if (tables.Count == 0)
        {
            return [];
        }

        // One round trip for all tables: a batch of count(*) statements, read back result by result.
        await using var batch = new NpgsqlBatch(connection);
        foreach (var table in tables)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(
                $"SELECT count(*) FROM {DatabaseAdmin.QuoteIdentifier(table.Schema)}.{DatabaseAdmin.QuoteIdentifier(table.Table)}"));
        }

        var counts = new List<TableRowCount>(tables.Count);
        await using var results = await batch.ExecuteReaderAsync(cancellationToken);
        foreach (var table in tables)
        {
            await results.ReadAsync(cancellationToken);
            counts.Add(new TableRowCount(table.Schema, table.Table, table.Name, table.Partitioned, results.GetInt64(0)));
            await results.NextResultAsync(cancellationToken);
        }

        return counts;
    }

    /// <summary>Each table whose count differs between the two, or that only one of them has, as "schema.table: expected N, found M".</summary>
    public static IReadOnlyList<string> Differences(IReadOnlyList<TableRowCount> expected, IReadOnlyList<TableRowCount> found)
    {
        var foundByName = found.ToDictionary(count => (count.Schema, count.Table), count => count.Rows);
        var expectedNames = expected.Select(count => (count.Schema, count.Table)).ToHashSet();
        return expected
            .Where(count => !foundByName.TryGetValue((count.Schema, count.Table), out var rows) || rows != count.Rows)
            .Select(count => $"{count}: expected {count.Rows}, found {(foundByName.TryGetValue((count.Schema, count.Table), out var rows) ? rows : "no such table")}")
            .Concat(found.Where(count => !expectedNames.Contains((count.Schema, count.Table))).Select(count => $"{count}: not expected, found {count.Rows}"))
            .ToList();
    }
}
