using PgDeploy.Migrations.History;

namespace PgDeploy.Migrations;

/// Adopts a database that never saw this tool: records that it is at a version, so that the next
/// deployment runs only what comes after it.
public static class Baseline
{
    public static async Task MarkAsync(string connectionString, AppVersion version, string runId, MigrationSettings settings, CancellationToken cancellationToken)
    {
        await using var deploymentLock = await DeploymentLock.AcquireAsync(connectionString, runId, settings.DeploymentLockWait, cancellationToken);
        await using var session = await UpgradeSession.OpenAsync(connectionString, runId, settings, cancellationToken);
        var connection = session.Connection;
        await HistoryTable.EnsureCreatedAsync(connection, null, cancellationToken);
        var history = await HistoryTable.ReadAsync(connection, null, cancellationToken);
        if (history.Any(row => row.Success))
            throw new DeploymentRefusedException(
                $"Database '{connection.Database}' is already managed: its history says it is at {UpgradePlanner.CurrentVersion(history)}. " +
                "Baseline only adopts a database without history; nothing was changed.");
        await HistoryTable.AppendAsync(connection, null,
            new HistoryEntry(version.ToString(), "baseline", "baseline", null, 0, $"{Environment.UserName}@{Environment.MachineName} as {connection.UserName}", runId, true),
            cancellationToken);
    }
}
