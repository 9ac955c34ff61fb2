using PgDeploy.Migrations;
using TargetEngine;

namespace PgDeploy.Components;

/// <summary>
/// The upgrade procedure of a production PostgreSQL database as targets, one step each; each asks the deployment to take its
/// step, and the deployment decides whether the step may run now and records it. <c>./build.sh --plan Deploy</c> shows the order.
/// A build overrides a step with an explicit implementation, e.g. <c>Target IPostgresUpgrade.Restart => …</c>.
/// </summary>
public interface IPostgresUpgrade : IHazDeploymentEnvironment
{
    Target Prerequisites => _ => _
        .Description("Check connection, migrations, lock, disk, client tools, rights to restore, constraints and fence; confirm production")
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await Upgrade.Deployment.CheckPrerequisitesAsync(cancellationToken)));

    Target Precompute => _ => _
        .Description("Compute the data steps' expensive rows before the fence, while the application runs; resumable, it can run hours ahead")
        .DependsOn(Prerequisites)
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await Upgrade.Deployment.PrecomputeAsync(cancellationToken)));

    Target MaintenanceOn => _ => _
        .Description("Stop the application and fence the database against writes by the application's roles")
        .DependsOn(Prerequisites, Precompute)
        .Executes(async cancellationToken => ReportSummary(await Upgrade.Deployment.RaiseFenceAsync(cancellationToken)));

    Target Backup => _ => _
        .Description("Take the safe harbor inside the fence so that no write is lost on restore: a clone of the database (backup.mode clone+dump), or the verified dump")
        .DependsOn(MaintenanceOn)
        .Executes(async cancellationToken => ReportSummary(await Upgrade.Deployment.TakeSafeHarborAsync(cancellationToken)));

    Target Migrate => _ => _
        .Description("Run the pending versions' scripts up to --version, in the upgrade's transaction")
        .DependsOn(Backup)
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await Upgrade.Deployment.ApplyAsync(UpgradePhase.Migrate, commit: Upgrade.CommitsAfter(nameof(PostProcess), nameof(Verify)), cancellationToken)));

    Target PostProcess => _ => _
        .Description("Run the target version's C# data steps and the scripts after them, in the same transaction")
        .DependsOn(Migrate)
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await Upgrade.Deployment.ApplyAsync(UpgradePhase.PostProcess, commit: Upgrade.CommitsAfter(nameof(Verify)), cancellationToken)));

    Target Verify => _ => _
        .Description("Check integrity (orphans, row counts, verify queries, invalid indexes) inside the upgrade's transaction, then commit it")
        .DependsOn(PostProcess)
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await Upgrade.Deployment.VerifyAndCommitAsync(cancellationToken)));

    Target Restart => _ => _
        .Description("Lift the fence, start the application on the new version, wait for health, run smoke checks")
        .DependsOn(Verify)
        .Executes(async cancellationToken => ReportSummary(await Upgrade.Deployment.RestartAsync(cancellationToken)));

    Target DumpClone => _ => _
        .Description("After the window: dump the clone that is the safe harbor, verify the dump, drop the clone; nothing to do when Backup took the dump")
        .DependsOn(Restart)
        .OnlyWhenStatic(() => !Upgrade.IsFleetRun)
        .Executes(async cancellationToken => ReportSummary(await Upgrade.Deployment.DumpCloneAsync(cancellationToken)));

    Target Rollback => _ => _
        .Description("Undo the deployment: without a restore when nothing is committed, else from the safe harbor; runs by itself when a step from MaintenanceOn to Verify fails")
        .TriggeredByFailureOf(MaintenanceOn, Backup, Migrate, PostProcess, Verify)
        .Executes(async cancellationToken => ReportSummary(await Upgrade.Deployment.RollbackAsync(byHand: InvokedTargets.Contains(nameof(Rollback)), cancellationToken)));

    Target Deploy => _ => _
        .Description("The whole upgrade: Prerequisites, Precompute, MaintenanceOn, Backup, Migrate, PostProcess, Verify, Restart, DumpClone; after an interruption, finishes it; on a fleet, each database's in waves")
        .DependsOn(DumpClone);

    /// On a fleet environment without --database, Deploy's procedure runs once per database, in processes of their own.
    Target DeployFleet => _ => _
        .Description("On a fleet environment: Deploy each database in a process of its own, a canary first, then fleet.parallelism at a time; the fleet report")
        .DependentFor(Deploy)
        .OnlyWhenStatic(() => Upgrade.IsFleetRun)
        .Requires(() => Version)
        .Unlisted()
        .Executes(async cancellationToken => ReportSummary(await Upgrade.DeployFleetAsync(cancellationToken)));

    Target FleetMatrix => _ => _
        .Description("On a fleet environment: print the databases as a CI job matrix (canary, rest, max-parallel, fail-fast), and write it to $GITHUB_OUTPUT in GitHub Actions")
        .Executes(async cancellationToken => ReportSummary(await Upgrade.WriteFleetMatrixAsync(cancellationToken)));

    Target MaintenanceOff => _ => _
        .Description("Lift the write fence by hand: abandons a deployment that committed nothing, or ends a rollback once the previous code is back")
        .Executes(async cancellationToken => ReportSummary(await Upgrade.Deployment.LiftFenceByHandAsync(cancellationToken)));

    Target Baseline => _ => _
        .Description("Adopt a database that never saw this tool as being at --version: says what it records, then records it and nothing else")
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await PgDeploy.Migrations.Baseline.MarkAsync(
            await Upgrade.ConnectionStringAsync(cancellationToken), Upgrade.Catalog, Upgrade.TargetVersion!.Value, "baseline", Upgrade.Environment.Settings.Migrations, cancellationToken)));

    Target Init => _ => _
        .Description("Write the live database's schema (pg_dump --schema-only) as the first script of --version (default 0.1), to build new environments from; changes nothing in the database")
        .Requires(() => FromDatabase)
        .Executes(async cancellationToken => ReportSummary($"wrote {await SchemaSnapshot.WriteAsync(
            await Upgrade.ConnectionStringAsync(cancellationToken), MigrationsDirectory, Upgrade.TargetVersion ?? new AppVersion(0, 1), cancellationToken)}"));

    [Parameter("For Init: write the migrations' first version from the schema of the database --target-env names")]
    bool FromDatabase => TryGetValue(() => FromDatabase);
}
