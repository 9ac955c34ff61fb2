using PgDeploy.Rehearsals;
using TargetEngine;

namespace PgDeploy.Components;

/// <summary>The deployment rehearsed on a scratch copy: nothing of it touches the live database but a read.</summary>
public interface IRehearseUpgrade : IHazDeploymentEnvironment
{
    Target Rehearse => _ => _
        .Description("Dump the live database (no fence), restore it into a scratch database, run Migrate, PostProcess and Verify there as Deploy will, time them, drop the scratch; changes nothing live")
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await new Rehearsal(Upgrade.Request, Upgrade.RehearsalServerUrl).RunAsync(cancellationToken)));
}
