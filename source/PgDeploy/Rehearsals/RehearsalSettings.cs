namespace PgDeploy.Environments;

/// The "rehearsal" section of an environment's settings: where Rehearse restores its scratch copy, and whether Deploy
/// needs a recent passing rehearsal of the same plan.
public sealed record RehearsalSettings
{
    /// The name of the environment variable (or .env entry) that holds the rehearsal server's connection URL, e.g.
    /// DATABASE_URL_PROD_REHEARSAL; never the URL itself, which holds a secret. Null: the live database's own server.
    public string? Server { get; init; }

    /// Deploy refuses in Prerequisites without a passing rehearsal of the same plan (version and checksums) no older than MaxAge.
    public bool Required { get; init; }

    /// The oldest rehearsal that still predicts the window: data grows, and an old one says little about tonight.
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromHours(24);

    /// The MaintenanceOn part of the predicted window (the stop hook, the fence, the sessions' drain) when no deployment of this
    /// database has measured one yet.
    public TimeSpan MaintenanceOnAllowance { get; init; } = TimeSpan.FromSeconds(10);

    /// The Restart part of the predicted window when no deployment of this database has measured one yet.
    public TimeSpan RestartAllowance { get; init; } = TimeSpan.FromSeconds(30);
}
