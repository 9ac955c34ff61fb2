namespace PgDeploy.Safety.Fence;

/// An application role as the fence found it: with fence.scope database, CouldLogInBefore says it had CONNECT of its own on the database.
public sealed record FencedRole(string Name, bool CouldLogInBefore);

/// What raising the fence did, for the operator and the deployment report.
public sealed record FenceRaised(string Database, FenceRecord Record, bool WasAlreadyUp, IReadOnlyList<FencedRole> Roles, IReadOnlyList<AppSession> EndedSessions)
{
    public string Describe()
    {
        var roles = Roles.Select(role => Record.RevokedConnect is { } revoked
            ? revoked.Contains(role.Name) ? $"{role.Name} cannot connect to it" : $"{role.Name} had no CONNECT of its own on it and has none"
            : Record.DisabledRoles.Contains(role.Name) ? $"{role.Name} cannot log in" : $"{role.Name} was NOLOGIN already and stays so");
        var sessions = EndedSessions.Count == 0 ? "no session had to be ended" : $"ended {EndedSessions.Count} session(s): {string.Join("; ", EndedSessions)}";
        return $"{(WasAlreadyUp ? "The write fence was already up" : "Write fence up")} on database '{Database}' since {FenceText.Time(Record.RaisedAt)} " +
               $"(run {Record.RunId}): {string.Join(", ", roles)}; new sessions are read-only by default; {sessions}.";
    }
}

/// What lifting the fence gave back; Record is null when no fence was up.
public sealed record FenceLifted(string Database, FenceRecord? Record, IReadOnlyList<string> ReEnabledRoles, IReadOnlyList<string> MissingRoles)
{
    public string Describe()
    {
        if (Record is null)
            return $"No write fence is up on database '{Database}'; nothing was changed.";
        var parts = new List<string>();
        if (ReEnabledRoles.Intersect(Record.DisabledRoles).ToList() is { Count: > 0 } loggingIn)
            parts.Add($"{string.Join(", ", loggingIn)} can log in again");
        if (ReEnabledRoles.Intersect(Record.RevokedConnect ?? []).ToList() is { Count: > 0 } connecting)
            parts.Add($"{string.Join(", ", connecting)} can connect to it again");
        if (MissingRoles.Count > 0)
            parts.Add($"{string.Join(", ", MissingRoles)} no longer exist(s), so nothing was given back to it");
        if (Record.FencedRoles.Count == 0)
            parts.Add("no role had been disabled by the fence");
        parts.Add($"default_transaction_read_only is back to {(Record.PreviousReadOnlyDefault is { } value ? $"'{value}'" : "the server's default")}");
        parts.Add(Record.PreviousComment is null ? "the fence record is removed" : "the database comment is restored");
        return $"Lifted the write fence raised on database '{Database}' at {FenceText.Time(Record.RaisedAt)} by run {Record.RunId}: {string.Join("; ", parts)}.";
    }
}

/// Whether a fence is up, read from the catalog: what any process sees, whichever run raised it.
public sealed record FenceStatus(string Database, FenceRecord? Record)
{
    public bool IsUp => Record is not null;

    public string Describe() => Record is null
        ? $"No write fence is up on database '{Database}'."
        : $"A write fence is up on database '{Database}' since {FenceText.Time(Record.RaisedAt)}, raised by run {Record.RunId}: " +
          $"{(Record.FencedRoles.Count == 0 ? "it disabled no role" : Record.RevokedConnect is null ? $"{string.Join(", ", Record.DisabledRoles)} cannot log in" : $"{string.Join(", ", Record.RevokedConnect)} cannot connect to it")}; " +
          "new sessions are read-only by default.";
}

static class FenceText
{
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'");
}
