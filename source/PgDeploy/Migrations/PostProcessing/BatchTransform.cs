namespace PgDeploy.Migrations.PostProcessing;

/// A set-based data transform: `Source` selects the rows (read with Dapper into TRow), `Compute` turns
/// each row into a value tuple whose first item is the key and whose other items are the new values of
/// `Columns`, and the results update `Table` by `KeyColumn`.
/// Example: Source = "SELECT id, password FROM users", Compute = row => (row.Id, Hash(row.Password)),
/// Table = "users", KeyColumn = "id", Columns = ["password_hash"].
public sealed record BatchTransform<TRow, TResult>
{
    public required string Name { get; init; }
    public required string Source { get; init; }
    public required Func<TRow, TResult> Compute { get; init; }
    public required string Table { get; init; }
    public required string KeyColumn { get; init; }
    public required IReadOnlyList<string> Columns { get; init; }
    public int BatchSize { get; init; } = 1000;
}
