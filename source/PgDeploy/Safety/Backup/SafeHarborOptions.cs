using PgDeploy.Progress;

namespace PgDeploy.Safety;

/// <summary>How the safe harbor runs the PostgreSQL client tools; the defaults suit a deployment inside the maintenance fence.</summary>
public sealed record SafeHarborOptions
{
    /// <summary>Take pg_dump and pg_restore from this directory only (e.g. /usr/lib/postgresql/16/bin); null finds the newest installed.</summary>
    public string? ClientToolDirectory { get; init; }

    /// <summary>
    /// How long the dump waits for a table lock. Inside the fence nothing should hold one, so a wait means a session the fence
    /// missed; failing soon beats stalling that session's next statement behind the dump.
    /// </summary>
    public TimeSpan LockWaitTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a restore's swap tries to end the sessions on the two databases it renames.</summary>
    public TimeSpan SessionEndTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Where the dump, the restore and the checksums report how far they are; the operator's console when a deployment runs.</summary>
    public IWorkProgress Progress { get; init; } = new LoggedProgress();
}
