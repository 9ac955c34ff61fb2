namespace PgDeploy.Safety.Verification;

/// A reference from a child table's columns to a parent table's, whose every child row must find its
/// parent: a foreign key, or a reference declared in references.json that has no constraint.
/// <param name="MatchFull">MATCH FULL: only an all-null key is exempt. Otherwise MATCH SIMPLE: a key with any null is exempt.</param>
/// <param name="EqualityOperators">The foreign key's own parent = child operators, schema-qualified; empty means plain =.</param>
sealed record Reference(
    TableName Child, IReadOnlyList<string> ChildColumns, TableName Parent, IReadOnlyList<string> ParentColumns,
    bool MatchFull, IReadOnlyList<string> EqualityOperators)
{
    public override string ToString() => $"{Child}({string.Join(", ", ChildColumns)}) → {Parent}({string.Join(", ", ParentColumns)})";
}
