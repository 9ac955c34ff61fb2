using Npgsql;
using PgDeploy.Postgres;

namespace PgDeploy.Safety.Verification;

/// Counts the child rows of a reference whose parent row is missing, and shows a few of their keys.
static class OrphanCheck
{
    const int ExampleCount = 5;

    public static async Task<CheckResult> RunAsync(GuardedQuery query, string name, Reference reference, string note, CancellationToken cancellationToken)
    {
        var sql = OrphansSql(reference);
        try
        {
            var orphans = await query.CountAsync($"SELECT count(*) {sql}", cancellationToken);
            if (orphans == 0)
                return CheckResult.Of(name, CheckResult.Counted(0, "orphan"), passed: true, note);
            // Only the key columns are shown, cast to text by the server: other column values may be personal.
            var keys = string.Join(", ", reference.ChildColumns.Select(column => $"c.{DatabaseAdmin.QuoteIdentifier(column)}::text AS {DatabaseAdmin.QuoteIdentifier(column)}"));
            var examples = await query.SampleAsync($"SELECT DISTINCT {keys} {sql} LIMIT {ExampleCount}", ExampleCount, cancellationToken);
            return CheckResult.Of(name, CheckResult.Counted(orphans, "orphan"), passed: false,
                $"{orphans} row(s) of {reference.Child} have no parent in {reference.Parent}, e.g. {string.Join(", ", examples.FirstRows)}. {note}".TrimEnd());
        }
        catch (PostgresException exception)
        {
            return CheckResult.QueryFailed(name, exception);
        }
    }

    /// FROM child c WHERE (the key is not exempt) AND NOT EXISTS (its parent). A key with a null never
    /// equals a parent, so under MATCH FULL a partly-null key is an orphan, as the constraint would say.
    static string OrphansSql(Reference reference)
    {
        var child = reference.ChildColumns.Select(column => $"c.{DatabaseAdmin.QuoteIdentifier(column)}").ToList();
        var exempt = reference.MatchFull
            ? $"NOT ({string.Join(" AND ", child.Select(column => $"{column} IS NULL"))})"
            : string.Join(" AND ", child.Select(column => $"{column} IS NOT NULL"));
        var matches = reference.ParentColumns.Select((column, i) =>
            $"p.{DatabaseAdmin.QuoteIdentifier(column)} {(reference.EqualityOperators.Count > 0 ? $"OPERATOR({reference.EqualityOperators[i]})" : "=")} {child[i]}");
        return $"FROM {reference.Child.Sql} AS c WHERE {exempt} AND NOT EXISTS (SELECT FROM {reference.Parent.Sql} AS p WHERE {string.Join(" AND ", matches)})";
    }
}
