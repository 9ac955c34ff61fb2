using PgDeploy.Safety.Fence;
using Serilog;

namespace PgDeploy.Deployments;

/// The write fence as the deployment uses it: none when the environment names no application roles (allowed
/// outside production; Prerequisites refuses it in production).
sealed class FenceControl(DeploymentRequest request, DeploymentSite site)
{
    WriteFence? Fence => request.Settings.Fence.Roles.Count > 0 ? new WriteFence(site.ConnectionString, request.Settings.Fence) : null;

    public async Task<FenceRaised?> RaiseAsync(string runId, CancellationToken cancellationToken)
    {
        if (Fence is not { } fence)
        {
            Log.Warning("'{Environment}' names no application roles (fence.roles): the database is not fenced against writes", request.EnvironmentName);
            return null;
        }
        var raised = await fence.RaiseAsync(runId, cancellationToken);
        // Each caller says in its own words what raising the fence meant; the console shows that line once.
        Log.Debug("{Fence}", raised.Describe());
        return raised;
    }

    /// Lifts whatever fence is up and says what it gave back.
    public async Task<string> LiftAsync(CancellationToken cancellationToken)
    {
        if (Fence is not { } fence)
            return "no fence roles set: nothing to lift";
        var lifted = await fence.LiftAsync(cancellationToken);
        Log.Information("{Fence}", lifted.Describe());
        return lifted.Record is null ? "no fence was up" : $"fence lifted; {string.Join(", ", lifted.ReEnabledRoles)} can log in again";
    }

    public async Task<FenceStatus?> StatusAsync(CancellationToken cancellationToken) =>
        Fence is { } fence ? await fence.StatusAsync(cancellationToken) : null;

    public async Task<bool> IsUpAsync(CancellationToken cancellationToken) => (await StatusAsync(cancellationToken))?.IsUp ?? false;

    /// A deployment that continues must still be behind the fence it raised: if someone lifted it by hand, the
    /// application may have written since, so the fence goes up again, and a safe harbor taken before is stale.
    public async Task EnsureStillUpAsync(DeploymentJournal journal, Action<DeploymentState, string, string> enter, CancellationToken cancellationToken)
    {
        // After the window the fence is down on purpose: the new version runs while the clone is dumped.
        if (StateMachine.IsAfterWindow(journal.State))
            return;
        if (await StatusAsync(cancellationToken) is not { } status || status.IsUp)
            return;
        Log.Warning("The write fence of deployment {RunId} is no longer up: someone lifted it, and the application may have written since", journal.RunId);
        var raised = await RaiseAsync(journal.RunId, cancellationToken);
        journal.FenceRaisedAt = raised?.Record.RaisedAt;
        switch (journal.State)
        {
            case DeploymentState.Harboring or DeploymentState.Harbored:
                journal.SafeHarbor = null;
                journal.Clone = null;
                enter(DeploymentState.Fenced, "MaintenanceOn", "the fence had been lifted since the safe harbor was taken: fence raised again, a new safe harbor is needed");
                break;
            case DeploymentState.Applying or DeploymentState.Committed:
                // Part of the upgrade may be committed and the application may have written to it: a restore would lose that.
                journal.FenceLiftedAt ??= DateTimeOffset.UtcNow;
                enter(journal.State, "MaintenanceOn", "the fence had been lifted during the upgrade: fence raised again; a rollback now needs --discard-writes-since-restart");
                break;
            default:
                enter(journal.State, "MaintenanceOn", "the fence had been lifted: raised again");
                break;
        }
    }
}
