using PgDeploy.Postgres;

namespace PgDeploy.Safety.Verification;

/// The child rows of a reference whose parent row is missing, as SQL. The integrity verifier and the
/// restorability check share it, so an orphan means the same rows to both, and to the DELETE an operator
/// is shown.
static class OrphanQuery
{
    /// FROM child c WHERE (the key is not exempt) AND NOT EXISTS (its parent). A key with a null never
    /// equals a parent, so under MATCH FULL a partly-null key is an orphan, as the constraint would say.
    public static string FromWhere(Reference reference)
    {
        var child = reference.ChildColumns.Select(column => $"c.{DatabaseAdmin.QuoteIdentifier(column)}").ToList();
        var exempt = reference.MatchFull
            ? $"NOT ({string.Join(" AND ", child.Select(column => $"{column} IS NULL"))})"
            : string.Join(" AND ", child.Select(column => $"{column} IS NOT NULL"));
        var matches = reference.ParentColumns.Select((column, i) =>
            $"p.{DatabaseAdmin.QuoteIdentifier(column)} {(reference.EqualityOperators.Count > 0 ? $"OPERATOR({reference.EqualityOperators[i]})" : "=")} {child[i]}");
        return $"FROM {reference.Child.Sql} AS c WHERE {exempt} AND NOT EXISTS (SELECT FROM {reference.Parent.Sql} AS p WHERE {string.Join(" AND ", matches)})";
    }

    /// Only the key columns, cast to text by the server: other column values may be personal.
    public static string Keys(Reference reference) =>
        string.Join(", ", reference.ChildColumns.Select(column => $"c.{DatabaseAdmin.QuoteIdentifier(column)}::text AS {DatabaseAdmin.QuoteIdentifier(column)}"));
}
