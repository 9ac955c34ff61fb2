using PgDeploy.Components;
using TargetEngine;

/// The database's upgrade procedure, from the IPostgresUpgrade component, one target per step:
///
///   Prerequisites → Precompute → MaintenanceOn → Backup → Migrate → PostProcess → Verify → Restart → DumpClone = Deploy
///   Rollback when a step from MaintenanceOn to Verify fails; MaintenanceOff and Baseline by hand
///
/// IInspectUpgrade adds Status and Plan, IRehearseUpgrade adds Rehearse. Add the application's own targets here, or
/// replace a step: Target IPostgresUpgrade.Restart => _ => _.DependsOn(From<IPostgresUpgrade>().Verify).Executes(…).
/// `./build.sh --help` lists the targets, `./build.sh --plan Deploy` shows the order.
class Build : BuildBase, IPostgresUpgrade, IInspectUpgrade, IRehearseUpgrade
{
    public static int Main() => Execute<Build>(x => x.From<IPostgresUpgrade>().Deploy);
}
