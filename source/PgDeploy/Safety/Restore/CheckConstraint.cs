using Dapper;
using Npgsql;
using PgDeploy.Postgres;
using PgDeploy.Safety.Verification;

namespace PgDeploy.Safety;

/// <summary>
/// A validated CHECK constraint at the table where pg_dump writes it, with the rows it governs there: its own and, unless it is
/// NO INHERIT, those of every partition and child table, which inherit it.
/// </summary>
sealed class CheckConstraint
{
    public string Name { get; init; } = "";
    public string Schema { get; init; } = "";
    public string Table { get; init; } = "";
    public bool NoInherit { get; init; }
    public bool HasChildren { get; init; }
    /// <summary>The condition alone, as pg_get_expr writes it.</summary>
    public string Expression { get; init; } = "";
    /// <summary>As pg_get_constraintdef writes it, e.g. "CHECK ((total > (0)::numeric))".</summary>
    public string Definition { get; init; } = "";
    public string[] PrimaryKey { get; init; } = [];

    /// <summary>
    /// Inherited copies (conislocal = false) are left out: their rows are their parent's too. A copy merged with a local definition
    /// is left out too when a parent checks it, so every row is counted once; it is kept when no parent's copy is validated, since
    /// pg_dump then writes this one, validated, with the child table.
    /// </summary>
    const string CatalogSql =
        """
        SELECT c.conname AS Name, n.nspname AS Schema, r.relname AS Table, c.connoinherit AS NoInherit, r.relhassubclass AS HasChildren,
               pg_get_expr(c.conbin, c.conrelid) AS Expression, pg_get_constraintdef(c.oid) AS Definition,
               ARRAY(SELECT a.attname::text FROM pg_constraint pk CROSS JOIN LATERAL unnest(pk.conkey) WITH ORDINALITY k(attnum, position)
                     JOIN pg_attribute a ON a.attrelid = pk.conrelid AND a.attnum = k.attnum
                     WHERE pk.conrelid = c.conrelid AND pk.contype = 'p' ORDER BY k.position) AS PrimaryKey
        FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
        WHERE c.contype = 'c' AND c.convalidated AND c.conislocal AND r.relkind IN ('r', 'p') AND r.relpersistence <> 't'
          AND NOT EXISTS (SELECT FROM pg_inherits i JOIN pg_constraint p ON p.conrelid = i.inhparent
                          WHERE i.inhrelid = c.conrelid AND p.contype = 'c' AND p.conname = c.conname AND p.convalidated AND NOT p.connoinherit)
        ORDER BY n.nspname, r.relname, c.conname
        """;

    public TableName TableName => new(Schema, Table);

    /// <summary>FROM the table t WHERE the row fails the check; a CHECK passes on NULL.</summary>
    public string FromWhere => $"FROM {(NoInherit ? "ONLY " : "")}{TableName.Sql} AS t WHERE NOT coalesce(({Expression}), true)";

    /// <summary>
    /// The primary key, cast to text by the server; without one the row's ctid, and its table when the rows may be a child's. Never
    /// other columns: their values may be personal.
    /// </summary>
    public string Keys => PrimaryKey.Length > 0
        ? string.Join(", ", PrimaryKey.Select(column => $"t.{DatabaseAdmin.QuoteIdentifier(column)}::text AS {DatabaseAdmin.QuoteIdentifier(column)}"))
        : $"{(HasChildren && !NoInherit ? "t.tableoid::regclass::text AS \"table\", " : "")}t.ctid::text AS ctid";

    public static async Task<IReadOnlyList<CheckConstraint>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<CheckConstraint>(new CommandDefinition(CatalogSql, transaction: transaction, cancellationToken: cancellationToken))).ToList();
}
