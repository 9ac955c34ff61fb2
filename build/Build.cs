using PgDeploy.Migrations;
using TargetEngine;

/// The upgrade procedure of shared/reference/production-deployment-guide.md as a target graph. Each target asks
/// the deployment to take its step; the deployment decides whether the step may run now, and records it.
/// `./build.sh --help` lists the targets, `./build.sh --plan Deploy` shows the order.
partial class Build : BuildBase
{
    public static int Main() => Execute<Build>(x => x.Deploy);

    Target Prerequisites => _ => _
        .Description("Check connection, migrations, lock, disk, client tools, rights to restore, constraints and fence; confirm production")
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await Deployment.CheckPrerequisitesAsync(cancellationToken)));

    Target Precompute => _ => _
        .Description("Compute the data steps' expensive rows before the fence, while the application runs; resumable, it can run hours ahead")
        .DependsOn(Prerequisites)
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await Deployment.PrecomputeAsync(cancellationToken)));

    Target MaintenanceOn => _ => _
        .Description("Stop the application and fence the database against writes by the application's roles")
        .DependsOn(Prerequisites, Precompute)
        .Executes(async cancellationToken => ReportSummary(await Deployment.RaiseFenceAsync(cancellationToken)));

    Target Backup => _ => _
        .Description("Take and verify the safe-harbor dump, inside the fence so that no write is lost on restore")
        .DependsOn(MaintenanceOn)
        .Executes(async cancellationToken => ReportSummary(await Deployment.TakeSafeHarborAsync(cancellationToken)));

    Target Migrate => _ => _
        .Description("Run the pending versions' scripts up to --version, in the upgrade's transaction")
        .DependsOn(Backup)
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await Deployment.ApplyAsync(UpgradePhase.Migrate, commit: CommitsAfter(nameof(PostProcess), nameof(Verify)), cancellationToken)));

    Target PostProcess => _ => _
        .Description("Run the target version's C# data steps and the scripts after them, in the same transaction")
        .DependsOn(Migrate)
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await Deployment.ApplyAsync(UpgradePhase.PostProcess, commit: CommitsAfter(nameof(Verify)), cancellationToken)));

    Target Verify => _ => _
        .Description("Check integrity (orphans, row counts, verify queries, invalid indexes) inside the upgrade's transaction, then commit it")
        .DependsOn(PostProcess)
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await Deployment.VerifyAndCommitAsync(cancellationToken)));

    Target Restart => _ => _
        .Description("Lift the fence, start the application on the new version, wait for health, run smoke checks")
        .DependsOn(Verify)
        .Executes(async cancellationToken => ReportSummary(await Deployment.RestartAsync(cancellationToken)));

    Target Rollback => _ => _
        .Description("Undo the deployment: without a restore when nothing is committed, else from the safe harbor; runs by itself when a step from MaintenanceOn to Verify fails")
        .TriggeredByFailureOf(MaintenanceOn, Backup, Migrate, PostProcess, Verify)
        .Executes(async cancellationToken => ReportSummary(await Deployment.RollbackAsync(byHand: InvokedTargets.Contains(nameof(Rollback)), cancellationToken)));

    Target Deploy => _ => _
        .Description("The whole upgrade: Prerequisites, Precompute, MaintenanceOn, Backup, Migrate, PostProcess, Verify, Restart; after an interruption, finishes it")
        .DependsOn(Restart);
}
