using PgDeploy.Components;
using Serilog;
using TargetEngine;

/// An application's build with targets of its own, which gets the database upgrade by implementing IPostgresUpgrade and
/// replaces one of its steps (Restart) with its own.
class Build : BuildBase, IPostgresUpgrade
{
    public static int Main() => Execute<Build>(x => x.Release);

    Target Compile => _ => _
        .Description("Compile the application")
        .Executes(() => Log.Information("app: compiled"));

    Target Release => _ => _
        .Description("Compile, then upgrade the database")
        .DependsOn(Compile, From<IPostgresUpgrade>().Deploy)
        .Executes(() => Log.Information("app: released"));

    /// The application restarts its own way, then lets the deployment lift the fence and record the step.
    Target IPostgresUpgrade.Restart => _ => _
        .Description("Restart the application's containers, then lift the fence")
        .DependsOn(From<IPostgresUpgrade>().Verify)
        .Executes(async cancellationToken =>
        {
            Log.Information("app: restarting the containers");
            ReportSummary(await From<IPostgresUpgrade>().Upgrade.Deployment.RestartAsync(cancellationToken));
        });
}
