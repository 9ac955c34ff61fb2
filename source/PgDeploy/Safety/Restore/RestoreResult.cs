namespace PgDeploy.Safety;

/// <summary>What a restore did, for the deployment report.</summary>
/// <param name="FailedDatabase">The original, kept for forensics under this name; null when it was dropped.</param>
/// <param name="DropFailedDatabaseSql">The statement that drops the kept original once it is no longer needed.</param>
/// <param name="RowCounts">The restored database's row counts, equal to the safe harbor's manifest.</param>
public sealed record RestoreResult(
    string Database,
    string DumpPath,
    string RestoredAs,
    string? FailedDatabase,
    long? FailedDatabaseSizeBytes,
    string? DropFailedDatabaseSql,
    TimeSpan VerifyDuration,
    TimeSpan RestoreDuration,
    TimeSpan CheckDuration,
    TimeSpan AnalyzeDuration,
    TimeSpan SwapDuration,
    TimeSpan TotalDuration,
    IReadOnlyList<TableRowCount> RowCounts);
