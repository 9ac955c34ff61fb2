using PgDeploy.Migrations;

namespace PgDeploy.Tests.Migrations.Support;

/// <summary>What one deployment planned, under which run id.</summary>
internal sealed record DeploymentResult(string RunId, UpgradePlan Plan);

/// <summary>
/// Runs the upgrade the way `./build.sh Migrate PostProcess --version X` does in one process: plan under the deployment lock,
/// Migrate without committing, PostProcess, commit; the run is disposed (lock released) whatever happens.
/// </summary>
internal static class Deployment
{
    /// <summary>The tests' defaults: as in production, except that a test never waits a minute for a lock it will not get.</summary>
    public static MigrationSettings Settings { get; } = new() { DeploymentLockWait = TimeSpan.FromSeconds(10) };

    public static string NewRunId() => $"test-{Guid.NewGuid().ToString("N")[..8]}";

    public static async Task<DeploymentResult> RunAsync(
        TestDatabase database, MigrationCatalog catalog, string target, MigrationSettings? settings = null, string? runId = null)
    {
        runId ??= NewRunId();
        await using var run = new UpgradeRun(database.ConnectionString, catalog, AppVersion.Parse(target), settings ?? Settings, runId);
        var plan = await run.PlanAsync(CancellationToken.None);
        await run.ApplyAsync(UpgradePhase.Migrate, commit: false, CancellationToken.None);
        await run.ApplyAsync(UpgradePhase.PostProcess, commit: true, CancellationToken.None);
        return new DeploymentResult(runId, plan);
    }

    public static Task<DeploymentResult> RunAsync(TestDatabase database, MigrationFolder folder, string target, MigrationSettings? settings = null, string? runId = null) =>
        RunAsync(database, folder.Catalog(), target, settings, runId);
}
