namespace PgDeploy.Safety.Fence;

/// What a raised fence remembers about itself, so that a later run, or an operator after a crash, can
/// lift exactly what it changed and nothing else.
/// <param name="DisabledRoles">The roles the fence made NOLOGIN; roles that were NOLOGIN already are not listed and stay so.</param>
/// <param name="PreviousReadOnlyDefault">The database's own default_transaction_read_only before the fence (null: none), restored on lift.</param>
/// <param name="PreviousComment">The database's comment before the fence took its place, restored on lift.</param>
/// <param name="RevokedConnect">The roles whose CONNECT on the database a per-database fence (fence.scope database) revoked; granted back on lift.</param>
public sealed record FenceRecord(
    string RunId, DateTimeOffset RaisedAt, IReadOnlyList<string> DisabledRoles, string? PreviousReadOnlyDefault, string? PreviousComment,
    IReadOnlyList<string>? RevokedConnect = null)
{
    /// The roles this fence keeps out, whichever way.
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> FencedRoles => [.. DisabledRoles, .. RevokedConnect ?? []];
}
