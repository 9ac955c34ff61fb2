namespace PgDeploy.Safety.Fence;

/// What a raised fence remembers about itself, so that a later run, or an operator after a crash, can
/// lift exactly what it changed and nothing else.
/// <param name="DisabledRoles">The roles the fence made NOLOGIN; roles that were NOLOGIN already are not listed and stay so.</param>
/// <param name="PreviousReadOnlyDefault">The database's own default_transaction_read_only before the fence (null: none), restored on lift.</param>
/// <param name="PreviousComment">The database's comment before the fence took its place, restored on lift.</param>
public sealed record FenceRecord(
    string RunId, DateTimeOffset RaisedAt, IReadOnlyList<string> DisabledRoles, string? PreviousReadOnlyDefault, string? PreviousComment);
