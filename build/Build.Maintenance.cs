using PgDeploy.Safety.Fence;
using Serilog;
using TargetEngine;

/// The maintenance window: the application stopped and the database fenced against its writes.
partial class Build
{
    Target MaintenanceOff => _ => _
        .Description("Lift the write fence by hand (after a rollback, once the previous version's code runs) and say what was lifted")
        .Executes(async cancellationToken =>
        {
            var lifted = await LiftFenceAsync(cancellationToken);
            ReportSummary(lifted);
        });

    async Task<WriteFence?> FenceAsync(CancellationToken cancellationToken)
    {
        if (TargetEnvironment.Settings.Fence.Roles.Count > 0)
            return new WriteFence(await ConnectionStringAsync(cancellationToken), TargetEnvironment.Settings.Fence);
        Log.Warning("'{Environment}' names no application roles (fence.roles): the database is not fenced against writes", TargetEnv);
        return null;
    }

    async Task RaiseFenceAsync(CancellationToken cancellationToken)
    {
        var deployment = DeploymentJournal;
        await RunHookAsync("stop", TargetEnvironment.Settings.Hooks.Stop, cancellationToken);
        if (await FenceAsync(cancellationToken) is not { } fence)
        {
            ReportSummary("no fence roles set: not fenced");
            return;
        }
        var raised = await fence.RaiseAsync(RunId, cancellationToken);
        deployment.FenceRaisedAt ??= DateTimeOffset.UtcNow;
        deployment.FenceLiftedAt = null;
        deployment.Record(nameof(MaintenanceOn), raised.Describe());
        Log.Information("{Fence}", raised.Describe());
        ReportSummary($"fenced {string.Join(", ", raised.Roles.Select(role => role.Name))}");
    }

    async Task<string> LiftFenceAsync(CancellationToken cancellationToken)
    {
        if (await FenceAsync(cancellationToken) is not { } fence)
            return "no fence roles set: nothing to lift";
        var lifted = await fence.LiftAsync(cancellationToken);
        if (lifted.Record is not null)
        {
            DeploymentJournal.FenceLiftedAt = DateTimeOffset.UtcNow;
            DeploymentJournal.Record("fence", lifted.Describe());
        }
        Log.Information("{Fence}", lifted.Describe());
        return lifted.Record is null ? "no fence was up" : $"lifted; {string.Join(", ", lifted.ReEnabledRoles)} can log in again";
    }
}
