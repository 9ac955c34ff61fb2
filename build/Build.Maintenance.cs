using TargetEngine;

/// The maintenance window by hand: the fence comes down only when the deployment's state allows it.
partial class Build
{
    Target MaintenanceOff => _ => _
        .Description("Lift the write fence by hand: abandons a deployment that committed nothing, or ends a rollback once the previous code is back")
        .Executes(async cancellationToken => ReportSummary(await Deployment.LiftFenceByHandAsync(cancellationToken)));
}
