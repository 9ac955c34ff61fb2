using PgDeploy.Migrations.PostProcessing;
using PgDeploy.Tests.Migrations.Support;

namespace Migrations.V0_2;

/// <summary>Records that it ran, then waits, with the upgrade's transaction open and the deployment lock held, until the test opens its gate.</summary>
public sealed class WaitAtGate : PostProcessStep
{
    public override string Description => "Record this run, then wait for the test";

    public override async Task ExecuteAsync(StepContext context)
    {
        await context.ExecuteAsync("INSERT INTO ledger (entry) VALUES ('data step ran')");
        await StepGate.For(context.Connection.Database).PassAsync(context.CancellationToken);
    }
}
