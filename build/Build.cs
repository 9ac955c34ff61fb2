using TargetEngine;

/// The upgrade procedure of shared/reference/production-deployment-guide.md as a target graph.
/// `./build.sh --help` lists the targets, `./build.sh --plan Deploy` shows the order.
partial class Build : BuildBase
{
    public static int Main() => Execute<Build>(x => x.Deploy);

    Target Prerequisites => _ => _
        .Description("Check connection, privileges, client tools, free disk, migrations and the deployment lock; confirm production")
        .Requires(() => Version)
        .Executes(CheckPrerequisitesAsync);

    Target MaintenanceOn => _ => _
        .Description("Stop the application and fence the database against writes by the application's roles")
        .DependsOn(Prerequisites)
        .Executes(RaiseFenceAsync);

    Target Backup => _ => _
        .Description("Take and verify the safe-harbor dump, inside the fence so that no write is lost on restore")
        .DependsOn(MaintenanceOn)
        .Executes(TakeSafeHarborAsync);

    Target Migrate => _ => _
        .Description("Run the pending versions' scripts up to --version, in the upgrade's transaction")
        .DependsOn(Backup)
        .Requires(() => Version)
        .Executes(MigrateAsync);

    Target PostProcess => _ => _
        .Description("Run the target version's C# data steps and the scripts after them, in the same transaction")
        .DependsOn(Migrate)
        .Requires(() => Version)
        .Executes(PostProcessAsync);

    Target Verify => _ => _
        .Description("Check integrity (orphans, row counts, verify queries, invalid indexes) inside the upgrade's transaction, then commit it")
        .DependsOn(PostProcess)
        .Requires(() => Version)
        .Executes(VerifyAndCommitAsync);

    Target Restart => _ => _
        .Description("Lift the fence, start the application on the new version, wait for health, run smoke checks")
        .DependsOn(Verify)
        .Executes(RestartAsync);

    Target Rollback => _ => _
        .Description("Restore the safe harbor; runs by itself when Migrate, PostProcess or Verify fails")
        .TriggeredByFailureOf(Migrate, PostProcess, Verify)
        .Executes(RollbackAsync);

    Target Deploy => _ => _
        .Description("The whole upgrade: Prerequisites, MaintenanceOn, Backup, Migrate, PostProcess, Verify, Restart")
        .DependsOn(Restart);
}
