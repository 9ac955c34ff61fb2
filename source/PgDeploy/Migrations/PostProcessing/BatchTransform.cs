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

    /// The same rows as `Source`, read from the schema the application runs on before the upgrade, with the same column
    /// names and types (`KeyColumn` among them, naming the row in both schemas). With it, Precompute computes every row
    /// while the application still runs, and inside the fence only the rows changed since are computed.
    /// Example: "SELECT id AS legacy_id, password FROM users" before, "SELECT legacy_id, password FROM users" after.
    public string? SourceBeforeUpgrade { get; init; }

    /// What the results depend on besides the source rows, e.g. the hash's parameters: results precomputed under another
    /// identity are not used.
    public string Identity { get; init; } = "";
}
