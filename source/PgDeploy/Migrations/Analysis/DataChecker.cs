using System.Text.RegularExpressions;
using Npgsql;
using PgDeploy.Postgres;
using PgDeploy.Safety.Verification;

namespace PgDeploy.Migrations.Analysis;

/// <summary>
/// For one statement at its point of the plan: the query that tells whether it will succeed on today's data (duplicates before
/// a unique index, NULLs before SET NOT NULL, orphans before a foreign key, rows a CHECK or a cast rejects), and whether the
/// tables and columns it names exist there. What cannot be derived from today's data (an earlier statement changed it) is said.
/// </summary>
sealed partial class DataChecker(GuardedQuery query, PlanSchema schema, TimeSpan statementTimeout, CancellationToken cancellationToken)
{
    const int ExampleCount = 5;

    /// What a `-- deploy:allow` directive names to acknowledge a data check's finding.
    public static readonly IReadOnlySet<string> Rules = new HashSet<string> { "unique", "not-null", "foreign-key", "check", "cast", "missing-object", "parse-error" };

    public List<Finding> Findings { get; } = [];
    public int Checked { get; private set; }

    public void Add(StatementSite at, FindingSeverity severity, string rule, string message, string fix) =>
        Findings.Add(new Finding(severity, rule, at.Script, at.Statement.Line, at.Statement.Text, message, fix));

    public async Task CheckAsync(StatementSite at, StatementFacts facts)
    {
        var unsure = schema.UnknownEffectsAt;
        foreach (var created in facts.Creates is { } creates && !facts.MissingOk ? [creates] : Array.Empty<RelationRef>())
            if (await schema.FindAsync(await schema.ResolveAsync(created, cancellationToken), cancellationToken) is not null)
                Missing(at, unsure, $"{created} already exists at this point of the plan", "Drop it first, or write CREATE … IF NOT EXISTS if it may exist.");
        foreach (var dropped in facts.MissingOk ? [] : facts.Drops)
            if (await schema.FindAsync(await schema.ResolveAsync(dropped, cancellationToken), cancellationToken) is null)
                Missing(at, unsure, $"{dropped} does not exist at this point of the plan", "Correct the name, or write DROP … IF EXISTS.");
        if (facts.Relation is not { } relation || facts.Creates is not null)
            return;
        var name = await schema.ResolveAsync(relation, cancellationToken);
        if (await schema.FindAsync(name, cancellationToken) is not { } table)
        {
            if (!facts.MissingOk)
                Missing(at, unsure, $"the table {relation} does not exist at this point of the plan",
                    "Correct the name, or create the table in an earlier script of the plan.");
            return;
        }
        var missingColumns = table.Columns is null ? [] : facts.Columns.Where(column => !table.Columns.Contains(column)).Distinct().ToList();
        foreach (var column in missingColumns)
            Missing(at, unsure, $"the column {column} of {name} does not exist at this point of the plan",
                "Correct the name, or add the column in an earlier statement of the plan.");
        if (missingColumns.Count > 0)
            return;
        foreach (var need in facts.Needs)
            await CheckNeedAsync(at, name, table, need,
                sameStatementChangesColumns: facts.Needs.Count > 1 && (facts.AddsColumns.Count > 0 || facts.Needs.Any(other => other.Check == "cast")));
    }

    /// Certain from the catalog, unless an earlier DO block or C# step may have made it: then said, not refused.
    void Missing(StatementSite at, string? unsure, string message, string fix)
    {
        if (unsure is null)
            Add(at, FindingSeverity.Error, "missing-object", message + ".", fix);
        else
            Add(at, FindingSeverity.Info, "missing-object", $"not checked: {message} in the catalog, but {unsure} earlier in the plan may create it.", "");
    }

    async Task CheckNeedAsync(StatementSite at, TableName name, PlanSchema.Table table, DataNeed need, bool sameStatementChangesColumns = false)
    {
        var why = schema.UnknownEffectsAt is { } anything ? $"{anything} earlier in the plan may change any table"
            : table.ChangedBy is { } changedBy ? $"{changedBy} earlier in the plan changes {name}"
            : ColumnsChanged(table, need) is { } column ? $"{table.ChangedColumns[column]} earlier in the plan changes {name}.{column}"
            : need.Check != "empty" && sameStatementChangesColumns ? "the same statement changes the table's columns"
                : null;
        if (why is not null)
        {
            Add(at, FindingSeverity.Info, Rule(need), $"not derivable from today's data: {why}; the statement is checked when it runs.", "");
            return;
        }
        try
        {
            Checked++;
            await (need.Check switch
            {
                "unique" => UniqueAsync(at, name, table, need),
                "notNull" => NotNullAsync(at, name, table, need.Column!),
                "empty" => EmptyAsync(at, name, need.Column!),
                "foreignKey" => ForeignKeyAsync(at, name, need),
                "check" => CheckConstraintAsync(at, name, table, need.Expression!, need.Constraint),
                "cast" => CastAsync(at, name, table, need),
                "validate" => ValidateAsync(at, name, table, need.Constraint!),
                _ => Task.CompletedTask,
            });
        }
        catch (PostgresException exception)
        {
            Add(at, FindingSeverity.Warning, Rule(need), exception.SqlState == PostgresErrorCodes.QueryCanceled
                    ? $"not checked within the statement timeout of {statementTimeout.TotalSeconds:0.###} s; inside the window it may fail, or take long."
                    : $"not checked: the derived query failed with {exception.SqlState}: {Redacted(exception.MessageText)}.",
                exception.SqlState == PostgresErrorCodes.QueryCanceled ? "Raise migrations.scriptStatementTimeout, or run Rehearse to try it on a copy." : "Run Rehearse to try the statement on a copy.");
        }
    }

    async Task UniqueAsync(StatementSite at, TableName name, PlanSchema.Table table, DataNeed need)
    {
        var expressions = need.Expressions!;
        var aliases = expressions.Select((expression, index) => table.Columns?.Contains(expression) == true ? expression : $"expression_{index + 1}").ToList();
        var selected = expressions.Select((expression, index) => $"{Sql(table, expression)} AS {DatabaseAdmin.QuoteIdentifier(aliases[index])}");
        var filters = new List<string>();
        if (need.Where is not null)
            filters.Add($"({need.Where})");
        if (!need.NullsNotDistinct && !need.PrimaryKey)
            filters.AddRange(expressions.Select(expression => $"{Sql(table, expression)} IS NOT NULL"));
        var groups = $"FROM (SELECT {string.Join(", ", selected)} FROM {name.Sql} AS c{(filters.Count > 0 ? " WHERE " + string.Join(" AND ", filters) : "")} " +
                     $"GROUP BY {string.Join(", ", Enumerable.Range(1, expressions.Count))} HAVING count(*) > 1) AS d";
        var duplicates = await query.CountWithExamplesAsync(groups, string.Join(", ", aliases.Select(alias => $"d.{DatabaseAdmin.QuoteIdentifier(alias)}::text AS {DatabaseAdmin.QuoteIdentifier(alias)}")), ExampleCount, cancellationToken);
        var what = need.Constraint is null ? "the unique index" : $"{(need.PrimaryKey ? "the primary key" : "the unique constraint or index")} {need.Constraint}";
        if (duplicates.Count > 0)
            Add(at, FindingSeverity.Error, "unique", $"{what} on {name}({string.Join(", ", expressions)}) would fail: {duplicates.Count} value(s) occur more than once, e.g. {string.Join(", ", duplicates.Examples)}.",
                "Remove or merge the duplicates in an earlier script (or now, while the application runs), then deploy again.");
        if (need.PrimaryKey)
            foreach (var column in expressions.Where(expression => table.Columns?.Contains(expression) == true))
                await NotNullAsync(at, name, table, column);
    }

    async Task NotNullAsync(StatementSite at, TableName name, PlanSchema.Table table, string column)
    {
        var rows = await query.CountWithExamplesAsync($"FROM {name.Sql} AS c WHERE c.{DatabaseAdmin.QuoteIdentifier(column)} IS NULL", Keys(table), ExampleCount, cancellationToken);
        if (rows.Count > 0)
            Add(at, FindingSeverity.Error, "not-null", $"{name}.{column} must be NOT NULL, but {rows.Count} row(s) hold NULL there, e.g. {string.Join(", ", rows.Examples)}.",
                $"Fill them in an earlier statement (UPDATE {name.Sql} SET {DatabaseAdmin.QuoteIdentifier(column)} = … WHERE {DatabaseAdmin.QuoteIdentifier(column)} IS NULL), or add a DEFAULT, then deploy again.");
    }

    async Task EmptyAsync(StatementSite at, TableName name, string column)
    {
        var rows = await query.CountAsync($"SELECT count(*) FROM (SELECT FROM {name.Sql} LIMIT 1) AS any_row", cancellationToken);
        if (rows > 0)
            Add(at, FindingSeverity.Error, "not-null", $"the new column {column} is NOT NULL without a default, but {name} has rows, which would hold NULL.",
                "Give the column a DEFAULT, or add it nullable, fill it, and SET NOT NULL after.");
    }

    async Task ForeignKeyAsync(StatementSite at, TableName name, DataNeed need)
    {
        var parentName = await schema.ResolveAsync(need.References!, cancellationToken);
        if (await schema.FindAsync(parentName, cancellationToken) is not { } parent)
        {
            Missing(at, schema.UnknownEffectsAt, $"the referenced table {need.References} does not exist at this point of the plan", "Correct the name, or create the table in an earlier script.");
            return;
        }
        if (parent.ChangedBy is { } changedBy)
        {
            Add(at, FindingSeverity.Info, "foreign-key", $"not derivable from today's data: {changedBy} earlier in the plan changes {parentName}.", "");
            return;
        }
        var parentColumns = need.ReferencedColumns is { Count: > 0 } named ? named : parent.PrimaryKey;
        if (parentColumns.FirstOrDefault(parent.ChangedColumns.ContainsKey) is { } changedColumn)
        {
            Add(at, FindingSeverity.Info, "foreign-key", $"not derivable from today's data: {parent.ChangedColumns[changedColumn]} earlier in the plan changes {parentName}.{changedColumn}.", "");
            return;
        }
        var reference = new Reference(name, need.Columns!, parentName, parentColumns, false, []);
        await OrphansAsync(at, reference, need.Constraint);
    }

    async Task OrphansAsync(StatementSite at, Reference reference, string? constraint)
    {
        var orphans = await query.CountWithExamplesAsync(OrphanQuery.FromWhere(reference), OrphanQuery.Keys(reference), ExampleCount, cancellationToken);
        if (orphans.Count > 0)
            Add(at, FindingSeverity.Error, "foreign-key", $"the foreign key {constraint ?? ""} {reference} would fail: {orphans.Count} row(s) have no parent, e.g. {string.Join(", ", orphans.Examples)}.",
                $"Delete them or give them a parent in an earlier script (DELETE {OrphanQuery.FromWhere(reference)}), or add the key NOT VALID and validate it later.");
    }

    async Task CheckConstraintAsync(StatementSite at, TableName name, PlanSchema.Table table, string expression, string? constraint)
    {
        var rows = await query.CountWithExamplesAsync($"FROM {name.Sql} AS c WHERE NOT ({expression})", Keys(table), ExampleCount, cancellationToken);
        if (rows.Count > 0)
            Add(at, FindingSeverity.Error, "check", $"the check constraint {constraint ?? ""} CHECK ({expression}) on {name} would fail: {rows.Count} row(s) break it, e.g. {string.Join(", ", rows.Examples)}.",
                "Correct those rows in an earlier script, or add the constraint NOT VALID and validate it once they are corrected.");
    }

    /// An explicit cast, value by value, as ALTER COLUMN … TYPE will do. A length limit is checked apart: an explicit cast to
    /// varchar(n) truncates silently where the column's conversion fails.
    async Task CastAsync(StatementSite at, TableName name, PlanSchema.Table table, DataNeed need)
    {
        if (!await schema.TypeExistsAsync(need.Type!, cancellationToken))
        {
            Add(at, FindingSeverity.Info, "cast", $"not derivable from today's data: the type {need.Type} does not exist yet (an earlier statement of the plan may create it).", "");
            return;
        }
        var value = need.Using ?? $"c.{DatabaseAdmin.QuoteIdentifier(need.Column!)}";
        try
        {
            await query.CountAsync($"SELECT count(({value})::{need.Type}) FROM {name.Sql} AS c", cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState != PostgresErrorCodes.QueryCanceled)
        {
            Add(at, FindingSeverity.Error, "cast", $"{name}.{need.Column} cannot become {need.Type}: a value fails the conversion ({exception.SqlState}: {Redacted(exception.MessageText)}).",
                "Correct or convert those values in an earlier script, or give ALTER COLUMN … TYPE … USING an expression that maps every value.");
            return;
        }
        if (LengthLimit().Match(need.Type!) is { Success: true } limit)
        {
            var rows = await query.CountWithExamplesAsync($"FROM {name.Sql} AS c WHERE length(rtrim(({value})::text)) > {limit.Groups[1].Value}", Keys(table), ExampleCount, cancellationToken);
            if (rows.Count > 0)
                Add(at, FindingSeverity.Error, "cast", $"{name}.{need.Column} cannot become {need.Type}: {rows.Count} value(s) are longer, e.g. in {string.Join(", ", rows.Examples)}.",
                    "Shorten those values in an earlier script, or choose a longer type.");
        }
    }

    async Task ValidateAsync(StatementSite at, TableName name, PlanSchema.Table table, string constraint)
    {
        if (schema.TryGetAddedConstraint(name, constraint, out var added))
        {
            if (added is not null)
                await CheckNeedAsync(at, name, table, added);
            return;
        }
        var definition = await schema.ConstraintAsync(name, constraint, cancellationToken);
        if (definition is null)
            Missing(at, schema.UnknownEffectsAt, $"the constraint {constraint} on {name} does not exist at this point of the plan", "Correct the name.");
        else if (definition.Value.Reference is { } reference)
            await OrphansAsync(at, reference, constraint);
        else if (definition.Value.Expression is { } expression)
            await CheckConstraintAsync(at, name, table, expression, constraint);
    }

    /// The first column the need reads that an earlier statement changed; expressions are read by their words, which may name
    /// more columns than they use: then a check is skipped that could have run, never run on changed data.
    static string? ColumnsChanged(PlanSchema.Table table, DataNeed need)
    {
        if (table.ChangedColumns.Count == 0)
            return null;
        var text = string.Join(" ", [need.Column, .. need.Columns ?? [], .. need.Expressions ?? [], need.Where, need.Expression, need.Using]);
        return Words().Matches(text).Select(word => word.Value).FirstOrDefault(table.ChangedColumns.ContainsKey)
               ?? (need.Check == "validate" ? table.ChangedColumns.Keys.First() : null);
    }

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_$]*")]
    private static partial Regex Words();

    /// The primary key's columns as text, or the row's position: other column values may be personal.
    static string Keys(PlanSchema.Table table) => table.PrimaryKey.Count > 0
        ? string.Join(", ", table.PrimaryKey.Select(column => $"c.{DatabaseAdmin.QuoteIdentifier(column)}::text AS {DatabaseAdmin.QuoteIdentifier(column)}"))
        : "c.ctid::text AS ctid";

    static string Sql(PlanSchema.Table table, string expression) =>
        table.Columns?.Contains(expression) == true ? $"c.{DatabaseAdmin.QuoteIdentifier(expression)}" : expression;

    static string Rule(DataNeed need) => need.Check switch
    {
        "notNull" or "empty" => "not-null",
        "foreignKey" => "foreign-key",
        var check => check,
    };

    /// PostgreSQL quotes the offending value in its message (invalid input syntax for type integer: "12a"): it may be personal.
    static string Redacted(string message) => QuotedValue().Replace(message, ": \"…\"");

    [GeneratedRegex(@": ""[^""]*""")]
    private static partial Regex QuotedValue();

    [GeneratedRegex(@"^(?:character varying|varchar|character|char|bpchar|bit varying|varbit|bit)\s*\((\d+)\)$", RegexOptions.IgnoreCase)]
    private static partial Regex LengthLimit();
}
