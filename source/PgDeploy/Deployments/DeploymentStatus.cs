using PgDeploy.Migrations;

namespace PgDeploy.Deployments;

/// What an operator needs at 3 a.m. in one place: the database's version and drift, the deployment that is
/// unfinished (its state, fence, safe harbor and last failure), who holds the lock, and the one command that
/// goes on. Read without the lock and without changing anything.
public sealed record DeploymentStatus(
    UpgradeStatus Database,
    string Journal,
    string? RunId,
    bool Unfinished,
    string State,
    string? FromVersion,
    string? TargetVersion,
    string Fence,
    string? SafeHarbor,
    string? LastFailure,
    string Next)
{
    internal static async Task<DeploymentStatus> ReadAsync(DeploymentRequest request, DeploymentSite site, DeploymentJournal? journal, CancellationToken cancellationToken)
    {
        var database = await UpgradeStatus.ReadAsync(site.ConnectionString, request.Catalog(), cancellationToken);
        var fence = await new FenceControl(request, site).StatusAsync(cancellationToken);
        var active = journal is { } current && StateMachine.IsActive(current.State);
        var environment = request.EnvironmentName;
        // While another run holds the lock, the journal read here is changing under it: any command would only wait for that run.
        var next = database.LockHolder is { } holder
            ? $"wait: a run holds the deployment lock now ({holder}); run ./build.sh Status --target-env {environment} again when it has ended"
            : active
                ? StateMachine.NextCommand(journal!.State, journal.FromVersion, journal.TargetVersion, environment)
                : fence is { IsUp: true }
                    ? $"./build.sh MaintenanceOff --target-env {environment} lifts the fence, which no unfinished deployment holds"
                    : database.PendingSteps.Count > 0 && database.LatestVersion is { } latest
                        ? $"./build.sh Deploy --version {latest} --target-env {environment} deploys what is pending"
                        : "nothing: the database is up to date and no deployment is unfinished";
        return new DeploymentStatus(
            database,
            journal?.Path ?? request.JournalPath ?? DeploymentJournal.DefaultPath(request.DeploymentsDirectory, site.Identity),
            journal?.RunId,
            active,
            journal is null ? "none" : StateMachine.Describe(journal.State),
            journal?.FromVersion,
            journal?.TargetVersion,
            fence switch { null => "no fence roles set", { IsUp: true } => fence.Describe(), _ => "not up" },
            active ? journal!.SafeHarbor ?? (journal.Clone is { Gone: false } clone ? $"the clone {clone.Name}, dumped after Restart" : null) : null,
            active ? journal!.LastFailure : null,
            next);
    }

    public string Describe()
    {
        var lines = new List<string> { Database.Describe() };
        lines.Add(RunId is null
            ? "No deployment of this database is recorded here."
            : $"{(Unfinished ? "Unfinished deployment" : "Last deployment")} {RunId} ({FromVersion ?? "empty"} -> {TargetVersion}): {State}.");
        lines.Add($"Journal: {Journal}");
        lines.Add($"Write fence: {Fence}");
        if (SafeHarbor is not null)
            lines.Add($"Safe harbor: {SafeHarbor}");
        if (LastFailure is not null)
            lines.Add($"Last failure: {LastFailure}");
        lines.Add($"Next: {Next}");
        return string.Join(Environment.NewLine, lines);
    }
}
