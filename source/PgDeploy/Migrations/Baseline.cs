using Dapper;
using PgDeploy.Migrations.History;
using Serilog;

namespace PgDeploy.Migrations;

/// Adopts a database that never saw this tool: records that it is at a version, so that the next
/// deployment runs only what comes after it. What it records is said before it is recorded.
public static class Baseline
{
    /// <returns>What was recorded, for the summary.</returns>
    public static async Task<string> MarkAsync(
        string connectionString, MigrationCatalog catalog, AppVersion version, string runId, MigrationSettings settings, CancellationToken cancellationToken)
    {
        await using var deploymentLock = await DeploymentLock.AcquireAsync(connectionString, runId, settings.DeploymentLockWait, cancellationToken);
        await using var session = await UpgradeSession.OpenAsync(connectionString, runId, settings, cancellationToken);
        var connection = session.Connection;
        var history = await HistoryTable.ReadAsync(connection, null, cancellationToken);
        if (history.Any(row => row.Success))
            throw new DeploymentRefusedException(
                $"Database '{connection.Database}' is already managed: its history says it is at {UpgradePlanner.CurrentVersion(history)}. " +
                "Baseline only adopts a database without history; nothing was changed.");
        if (catalog.Find(version) is null)
            throw new DeploymentRefusedException(
                $"--version {version} has no folder {version.FolderName} in {catalog.Directory}: Baseline records the version whose scripts made " +
                $"the schema the database has now, so that Deploy runs the later ones. The folders are {Folders(catalog)}; write {version.FolderName} " +
                "first (./build.sh Init --from-database writes it from this database's schema) or name one of them; nothing was changed.");

        var tables = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', @history)",
            new { history = HistoryTable.Schema }, cancellationToken: cancellationToken));
        var by = $"{Environment.UserName}@{Environment.MachineName} as {connection.UserName}";
        var later = catalog.Versions.Where(folder => folder.Version > version).ToList();
        Log.Information(
            "Baseline: database '{Database}' has {Tables} table(s) and no deployment history. Recording in {History}: version {Version} " +
            "(script 'baseline', run {RunId}, by {By}); nothing else changes. Deploy then runs {Later}",
            connection.Database, tables, HistoryTable.QualifiedName, version, runId, by,
            later.Count == 0 ? "nothing until a later version's folder is written" : string.Join(", ", later.Select(folder => $"{folder.Version.FolderName} ({folder.Steps.Count} step(s))")));

        await HistoryTable.EnsureCreatedAsync(connection, null, cancellationToken);
        await HistoryTable.AppendAsync(connection, null, new HistoryEntry(version.ToString(), "baseline", "baseline", null, 0, by, runId, true), cancellationToken);
        return $"baselined at {version}; {later.Count} later version(s) pending";
    }

    static string Folders(MigrationCatalog catalog) =>
        catalog.Versions.Count == 0 ? "none yet" : string.Join(", ", catalog.Versions.Select(folder => folder.Version.FolderName));
}
