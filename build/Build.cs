using PgDeploy.Components;
using TargetEngine;

/// The school's build. The upgrade procedure of shared/reference/production-deployment-guide.md is the IPostgresUpgrade
/// component (source/PgDeploy.Components/IPostgresUpgrade.cs), one target per step:
///
///   Prerequisites → Precompute → MaintenanceOn → Backup → Migrate → PostProcess → Verify → Restart → DumpClone = Deploy
///   Rollback when a step from MaintenanceOn to Verify fails; MaintenanceOff and Baseline by hand
///
/// IInspectUpgrade adds Status and Plan, IRehearseUpgrade adds Rehearse; the school adds Demo and Test.
/// `./build.sh --help` lists the targets, `./build.sh --plan Deploy` shows the order.
partial class Build : BuildBase, IPostgresUpgrade, IInspectUpgrade, IRehearseUpgrade
{
    public static int Main() => Execute<Build>(x => x.From<IPostgresUpgrade>().Deploy);

    /// The school's C# data steps are a library of their own (migrations/Migrations.csproj), not compiled into this build.
    IEnumerable<Type> IHazDeploymentEnvironment.MigrationStepTypes => typeof(Migrations.V0_4.HashPasswords).Assembly.GetTypes();

    /// The components' parameters, and the deployment made from them, for the school's own targets.
    IHazDeploymentEnvironment Parameters => this;
    DeploymentContext Upgrade => Parameters.Upgrade;
}
