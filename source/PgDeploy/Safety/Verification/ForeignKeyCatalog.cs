using Dapper;
using Npgsql;

namespace PgDeploy.Safety.Verification;

/// A foreign key as the orphan checks need it.
/// <param name="Definition">As pg_get_constraintdef writes it, e.g. "FOREIGN KEY (account_id) REFERENCES accounts(id)".</param>
/// <param name="OnPartitionedTable">Its table is partitioned (before PostgreSQL 18 such a key cannot be NOT VALID).</param>
sealed record ForeignKey(string Name, Reference Reference, bool Validated, string Definition, bool OnPartitionedTable);

/// Every foreign key in the database, read from the catalog for the integrity verifier and the
/// restorability check alike.
static class ForeignKeyCatalog
{
    // Properties, not a positional record: Dapper matches constructors by the column's type, which for an array is System.Array.
    sealed class ForeignKeyRow
    {
        public string Name { get; init; } = "";
        public string ChildSchema { get; init; } = "";
        public string ChildTable { get; init; } = "";
        public string ParentSchema { get; init; } = "";
        public string ParentTable { get; init; } = "";
        public bool Validated { get; init; }
        public bool MatchFull { get; init; }
        public string Definition { get; init; } = "";
        public bool OnPartitionedTable { get; init; }
        public string[] ChildColumns { get; init; } = [];
        public string[] ParentColumns { get; init; } = [];
        public string[] EqualityOperators { get; init; } = [];
    }

    /// conparentid = 0 keeps a foreign key on a partitioned table once, at its parent (whose query
    /// covers every partition), and leaves out the copies PostgreSQL keeps on each partition and for
    /// each partition of a partitioned parent table. Temporary tables belong to other sessions.
    const string CatalogSql =
        """
        SELECT c.conname AS Name, cn.nspname AS ChildSchema, cc.relname AS ChildTable, pn.nspname AS ParentSchema, pc.relname AS ParentTable,
               c.convalidated AS Validated, c.confmatchtype = 'f' AS MatchFull, pg_get_constraintdef(c.oid) AS Definition, cc.relkind = 'p' AS OnPartitionedTable,
               ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, position)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.position) AS ChildColumns,
               ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, position)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.position) AS ParentColumns,
               ARRAY(SELECT format('%I.%s', n.nspname, o.oprname) FROM unnest(c.conpfeqop) WITH ORDINALITY e(oid, position)
                     JOIN pg_operator o ON o.oid = e.oid JOIN pg_namespace n ON n.oid = o.oprnamespace ORDER BY e.position) AS EqualityOperators
        FROM pg_constraint c
        JOIN pg_class cc ON cc.oid = c.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
        JOIN pg_class pc ON pc.oid = c.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE c.contype = 'f' AND c.conparentid = 0 AND cc.relpersistence <> 't'
        ORDER BY cn.nspname, cc.relname, c.conname
        """;

    public static async Task<IReadOnlyList<ForeignKey>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<ForeignKeyRow>(new CommandDefinition(CatalogSql, transaction: transaction, cancellationToken: cancellationToken));
        return rows.Select(row => new ForeignKey(
            row.Name,
            new Reference(
                new TableName(row.ChildSchema, row.ChildTable), row.ChildColumns, new TableName(row.ParentSchema, row.ParentTable), row.ParentColumns,
                row.MatchFull, row.EqualityOperators),
            row.Validated, row.Definition, row.OnPartitionedTable)).ToList();
    }
}
