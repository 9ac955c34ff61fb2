using PgDeploy.Migrations;

namespace PgDeploy.Deployments;

/// What an operator needs at 3 a.m. in one place: the database's version and drift, the deployment that is
/// unfinished (its state, fence, safe harbor and last failure), who holds the lock, and the one command that
/// goes on. Read without the lock and without changing anything.
public sealed record DeploymentStatus(
    UpgradeStatus Database,
    string? RunId,
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
        var next = active
            ? StateMachine.NextCommand(journal!.State, journal.FromVersion, journal.TargetVersion, request.EnvironmentName)
            : fence is { IsUp: true }
                ? $"./build.sh MaintenanceOff --target-env {request.EnvironmentName} lifts the fence, which no unfinished deployment holds"
                : database.PendingSteps.Count > 0 && database.LatestVersion is { } latest
                    ? $"./build.sh Deploy --version {latest} --target-env {request.EnvironmentName} deploys what is pending"
                    : "nothing: the database is up to date and no deployment is unfinished";
        return new DeploymentStatus(
            database,
            journal?.RunId,
            journal is null ? "none" : StateMachine.Describe(journal.State),
            journal?.FromVersion,
            journal?.TargetVersion,
            fence switch { null => "no fence roles set", { IsUp: true } => fence.Describe(), _ => "not up" },
            active ? journal!.SafeHarbor : null,
            active ? journal!.LastFailure : null,
            next);
    }

    public string Describe()
    {
        var lines = new List<string> { Database.Describe() };
        lines.Add(RunId is null
            ? "No deployment of this database is recorded here."
            : $"Deployment {RunId} ({FromVersion ?? "empty"} -> {TargetVersion}): {State}.");
        lines.Add($"Write fence: {Fence}");
        if (SafeHarbor is not null)
            lines.Add($"Safe harbor: {SafeHarbor}");
        if (LastFailure is not null)
            lines.Add($"Last failure: {LastFailure}");
        lines.Add($"Next: {Next}");
        return string.Join(Environment.NewLine, lines);
    }
}
