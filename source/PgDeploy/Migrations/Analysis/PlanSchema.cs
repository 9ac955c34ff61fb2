using Dapper;
using Npgsql;
using PgDeploy.Safety.Verification;

namespace PgDeploy.Migrations.Analysis;

/// <summary>
/// The tables as they will be at a point of the upgrade plan: the target database's catalog today, with the plan's earlier
/// statements applied on top. It answers "does it exist there" and "are its rows still today's rows": a data check is
/// derived only from rows that no earlier statement of the plan has changed.
/// </summary>
sealed class PlanSchema(NpgsqlConnection connection, NpgsqlTransaction transaction, string currentSchema)
{
    /// <param name="Columns">Null when the plan created it without saying which (CREATE TABLE AS, a view).</param>
    /// <param name="ChangedBy">The first earlier statement of the plan that created it or added or removed rows, as script:line.</param>
    /// <param name="Bytes">Today's size of its rows (TOAST included); unknown (0) for a table the plan creates.</param>
    public sealed record Table(HashSet<string>? Columns, IReadOnlyList<string> PrimaryKey, string? ChangedBy, long Bytes = 0, long Rows = 0, int Indexes = 0, bool CreatedByPlan = false)
    {
        /// Columns an earlier statement wrote, added or converted while the rows stayed: a check on the others is still derived from today's data.
        public Dictionary<string, string> ChangedColumns { get; init; } = [];
    }

    /// Null: known not to exist at this point of the plan.
    readonly Dictionary<TableName, Table?> tables = [];
    readonly Dictionary<(TableName Table, string Name), DataNeed?> constraintsAdded = [];

    /// The first statement (DO, CALL) or C# step of the plan that may change anything, as script:line.
    public string? UnknownEffectsAt { get; private set; }

    public async Task<TableName> ResolveAsync(RelationRef relation, CancellationToken cancellationToken)
    {
        if (relation.Schema is not null)
            return new TableName(relation.Schema, relation.Name);
        var inCurrent = new TableName(currentSchema, relation.Name);
        if (tables.ContainsKey(inCurrent))
            return inCurrent;
        var schema = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(quote_ident(@name))",
            new { name = relation.Name }, transaction, cancellationToken: cancellationToken));
        return schema is null ? inCurrent : new TableName(schema, relation.Name);
    }

    public async Task<Table?> FindAsync(TableName name, CancellationToken cancellationToken)
    {
        if (tables.TryGetValue(name, out var known))
            return known;
        var columns = (await connection.QueryAsync<(string Column, bool Key)>(new CommandDefinition(
            """
            SELECT a.attname, coalesce(a.attnum = ANY (i.indkey), false)
            FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
            WHERE a.attrelid = to_regclass(format('%I.%I', @schema, @table)) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """, new { schema = name.Schema, table = name.Name }, transaction, cancellationToken: cancellationToken))).ToList();
        var exists = columns.Count > 0 || await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT to_regclass(format('%I.%I', @schema, @table)) IS NOT NULL", new { schema = name.Schema, table = name.Name }, transaction, cancellationToken: cancellationToken));
        Table? table = null;
        if (exists)
        {
            var (bytes, rows, indexes) = await connection.QuerySingleAsync<(long, long, int)>(new CommandDefinition(
                """
                SELECT pg_table_size(c.oid), greatest(c.reltuples, 0)::bigint, (SELECT count(*)::int FROM pg_index i WHERE i.indrelid = c.oid)
                FROM pg_class c WHERE c.oid = to_regclass(format('%I.%I', @schema, @table))
                """, new { schema = name.Schema, table = name.Name }, transaction, cancellationToken: cancellationToken));
            table = new Table(columns.Select(column => column.Column).ToHashSet(), columns.Where(column => column.Key).Select(column => column.Column).ToList(), null, bytes, rows, indexes);
        }
        tables[name] = table;
        return table;
    }

    /// A constraint of today's catalog, for VALIDATE CONSTRAINT: a foreign key's reference, or a check's expression; null when none.
    public async Task<(Reference? Reference, string? Expression)?> ConstraintAsync(TableName table, string name, CancellationToken cancellationToken)
    {
        if ((await ForeignKeyCatalog.ReadAsync(connection, transaction, cancellationToken)).FirstOrDefault(key => key.Name == name && key.Reference.Child == table) is { } foreignKey)
            return (foreignKey.Reference, null);
        var expression = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT pg_get_expr(conbin, conrelid) FROM pg_constraint WHERE conrelid = to_regclass(format('%I.%I', @schema, @table)) AND conname = @name AND contype = 'c'",
            new { schema = table.Schema, table = table.Name, name }, transaction, cancellationToken: cancellationToken));
        return expression is null ? null : (null, expression);
    }

    /// Whether any of the functions (as a column default calls them) is volatile: then ADD COLUMN rewrites every row.
    public async Task<bool> AnyVolatileAsync(IReadOnlyList<string> functions, CancellationToken cancellationToken) =>
        functions.Count > 0 && await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT coalesce(bool_or(provolatile = 'v'), false) FROM pg_proc WHERE proname = ANY (@names)",
            new { names = functions.Select(function => function.Split('.')[^1]).ToArray() }, transaction, cancellationToken: cancellationToken));

    public Task<bool> TypeExistsAsync(string type, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT to_regtype(@type) IS NOT NULL", new { type }, transaction, cancellationToken: cancellationToken));

    /// The plan's own constraint of that name, added NOT VALID by an earlier statement; null when the plan added none.
    public bool TryGetAddedConstraint(TableName table, string name, out DataNeed? need) => constraintsAdded.TryGetValue((table, name), out need);

    /// Applies a statement's effects, once its checks ran: what it creates, drops, renames and writes.
    public async Task ApplyAsync(StatementFacts facts, string at, CancellationToken cancellationToken)
    {
        if (facts.UnknownEffects)
            MayChangeAnything(at);
        if (facts.Creates is { } created && !(facts.MissingOk && await FindAsync(await ResolveAsync(created, cancellationToken), cancellationToken) is not null))
            tables[await ResolveAsync(created, cancellationToken)] = new Table(facts.CreatedColumns?.ToHashSet(), [], at, CreatedByPlan: true);
        foreach (var dropped in facts.Drops)
            tables[await ResolveAsync(dropped, cancellationToken)] = null;
        if (facts.Renames is { } rename && await FindAsync(await ResolveAsync(rename.Relation, cancellationToken), cancellationToken) is { } renamed)
        {
            var from = await ResolveAsync(rename.Relation, cancellationToken);
            if (rename.Column is null)
            {
                tables[from] = null;
                tables[new TableName(from.Schema, rename.To)] = renamed;
            }
            else if (renamed.Columns is { } columns && columns.Remove(rename.Column))
                columns.Add(rename.To);
        }
        foreach (var written in facts.WritesAll ?? [])
            await MarkChangedAsync(await ResolveAsync(written, cancellationToken), at, cancellationToken);
        if (facts.Relation is not { } relation)
            return;
        var name = await ResolveAsync(relation, cancellationToken);
        if (await FindAsync(name, cancellationToken) is not { } table)
            return;
        foreach (var column in facts.AddsColumns)
            table.Columns?.Add(column);
        foreach (var column in facts.DropsColumns)
            table.Columns?.Remove(column);
        IEnumerable<string> columnsChanged = facts.Kind switch
        {
            "UpdateStmt" => facts.Columns,
            "AlterTableStmt" => facts.AddsColumns.Concat(facts.Needs.Where(need => need.Check == "cast").Select(need => need.Column!)),
            _ => [],
        };
        foreach (var column in columnsChanged)
            table.ChangedColumns.TryAdd(column, at);
        if (facts.Writes && facts.Kind is not ("UpdateStmt" or "AlterTableStmt"))
            await MarkChangedAsync(name, at, cancellationToken);
        foreach (var constraint in facts.AddsConstraints.Where(constraint => constraint.Name is not null))
            constraintsAdded[(name, constraint.Name!)] = constraint.Need;
    }

    public void MayChangeAnything(string at) => UnknownEffectsAt ??= at;

    /// Today's size of the tables a query reads, or their size as the plan has filled them so far.
    public async Task<long> BytesReadAsync(IReadOnlyList<RelationRef> reads, CancellationToken cancellationToken)
    {
        long bytes = 0;
        foreach (var read in reads)
            bytes += (await FindAsync(await ResolveAsync(read, cancellationToken), cancellationToken))?.Bytes ?? 0;
        return bytes;
    }

    /// A table an INSERT … SELECT or CREATE TABLE AS fills grows by about what its query read: later index builds on it are sized by that.
    public async Task GrowAsync(RelationRef relation, long bytes, CancellationToken cancellationToken)
    {
        var name = await ResolveAsync(relation, cancellationToken);
        if (await FindAsync(name, cancellationToken) is { } table)
            tables[name] = table with { Bytes = table.Bytes + bytes };
    }

    async Task MarkChangedAsync(TableName name, string at, CancellationToken cancellationToken)
    {
        if (await FindAsync(name, cancellationToken) is { ChangedBy: null } table)
            tables[name] = table with { ChangedBy = at };
    }
}
