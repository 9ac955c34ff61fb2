using System.Text.Json;

namespace PgDeploy.Migrations.Analysis;

/// A table as a statement names it: the schema is null when the statement leaves it to search_path.
public sealed record RelationRef(string? Schema, string Name)
{
    public override string ToString() => Schema is null ? Name : $"{Schema}.{Name}";
}

/// <summary>
/// What a statement needs from the rows already there to succeed, as PostgreSQL's parser read it (tools/sql/statement-facts.cjs).
/// Check is one of unique, notNull, empty, foreignKey, check, cast, validate; expressions are SQL deparsed from the statement.
/// </summary>
public sealed record DataNeed(
    string Check, string? Constraint = null, IReadOnlyList<string>? Expressions = null, string? Where = null, bool PrimaryKey = false,
    bool NullsNotDistinct = false, string? Column = null, IReadOnlyList<string>? Columns = null, RelationRef? References = null,
    IReadOnlyList<string>? ReferencedColumns = null, string? Expression = null, string? Type = null, string? Using = null);

public sealed record AddedConstraint(string? Name, DataNeed? Need);

public sealed record Rename(RelationRef Relation, string? Column, string To);

/// <summary>One statement's facts: the table it acts on, the objects it needs, creates, drops or renames, what it writes.</summary>
/// <param name="Columns">Columns of <paramref name="Relation"/> that must exist for the statement to succeed.</param>
/// <param name="UnknownEffects">DO and CALL: anything may change, so nothing after them is derived from today's data.</param>
/// <param name="Work">What it does to the rows of <paramref name="Relation"/>: scan, write, rewrite, index (a build), fill (from a query).</param>
/// <param name="Reads">The tables the query of an INSERT … SELECT or CREATE TABLE AS reads: they size what it fills.</param>
/// <param name="DefaultFunctions">The functions the defaults of added columns call: a volatile one rewrites the table.</param>
/// <param name="CreatedColumns">The columns of the table it creates, or null when the parser cannot tell (CREATE TABLE AS, a view).</param>
public sealed record StatementFacts(
    string Kind, RelationRef? Relation, bool MissingOk, IReadOnlyList<string> Columns, IReadOnlyList<DataNeed> Needs, IReadOnlyList<string> Notes,
    bool Writes, bool UnknownEffects, RelationRef? Creates, IReadOnlyList<string>? CreatedColumns, IReadOnlyList<RelationRef> Drops,
    IReadOnlyList<string> AddsColumns, IReadOnlyList<string> DropsColumns, Rename? Renames, IReadOnlyList<AddedConstraint> AddsConstraints,
    IReadOnlyList<RelationRef>? WritesAll, string? Lock, IReadOnlyList<string> Work, IReadOnlyList<string> DefaultFunctions, IReadOnlyList<RelationRef> Reads);

/// A statement of the plan: the script it is in and where.
public sealed record StatementSite(string Script, Scripts.SqlStatement Statement)
{
    public override string ToString() => $"{Script}:{Statement.Line}";
}

/// One statement through the parser: its facts, or the parser's error.
public sealed record ParsedStatement(StatementFacts? Facts, string? Error);

/// Runs PostgreSQL's own parser over statements, all in one process: the parser loads once, whatever the plan's size. A statement's
/// facts depend only on its text and the tools, so they are kept in the tools' cache and a statement seen before is not parsed again.
public static class StatementParser
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    sealed record Input(int Id, string Sql);
    sealed record Output(int Id, StatementFacts? Facts, string? Error);

    public static async Task<IReadOnlyList<ParsedStatement>> ParseAsync(SqlTools tools, IReadOnlyList<string> statements, CancellationToken cancellationToken)
    {
        var results = new ParsedStatement?[statements.Count];
        var keys = statements.Select(tools.CacheKey).ToList();
        for (var index = 0; index < statements.Count; index++)
            if (tools.ReadCache(keys[index]) is { } cached)
                results[index] = JsonSerializer.Deserialize<ParsedStatement>(cached, Json);
        var missing = Enumerable.Range(0, statements.Count).Where(index => results[index] is null).ToList();
        if (missing.Count > 0)
        {
            var input = JsonSerializer.Serialize(missing.Select(index => new Input(index, statements[index])), Json);
            foreach (var output in JsonSerializer.Deserialize<List<Output>>(await tools.StatementFactsAsync(input, cancellationToken), Json)!)
            {
                results[output.Id] = new ParsedStatement(output.Facts, output.Error);
                tools.WriteCache(keys[output.Id], JsonSerializer.Serialize(results[output.Id], Json));
            }
        }
        return results.Select(result => result!).ToList();
    }
}
