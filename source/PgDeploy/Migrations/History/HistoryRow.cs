namespace PgDeploy.Migrations.History;

/// One applied (or failed) script or step, as recorded in pgdeploy.history.
public sealed record HistoryRow(
    int InstalledRank,
    string Version,
    string Name,
    string Kind,
    string? Checksum,
    DateTime AppliedAt,
    long DurationMs,
    string AppliedBy,
    string RunId,
    bool Success,
    string? ErrorSqlState,
    string? ErrorStatement,
    string? ErrorMessage)
{
    public AppVersion AppVersion => AppVersion.Parse(Version);
}
