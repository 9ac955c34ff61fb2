using Npgsql;
using PgDeploy.Migrations.History;

namespace PgDeploy.Migrations;

/// What the database and the migrations folder say, side by side, without changing anything.
public sealed record UpgradeStatus(
    string Database,
    string? CurrentVersion,
    string? LatestVersion,
    IReadOnlyList<string> PendingSteps,
    IReadOnlyList<string> Problems,
    IReadOnlyList<HistoryRow> RecentFailures,
    string? LockHolder)
{
    public static async Task<UpgradeStatus> ReadAsync(string connectionString, MigrationCatalog catalog, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var history = await HistoryTable.ReadAsync(connection, null, cancellationToken);
        var latest = catalog.Versions.Count > 0 ? catalog.Versions[^1].Version : (AppVersion?)null;
        var current = UpgradePlanner.CurrentVersion(history);
        var (pending, problems) = TryPlan(catalog, history, latest);
        var lastSuccess = history.Where(row => row.Success).Select(row => row.InstalledRank).DefaultIfEmpty(0).Max();
        return new UpgradeStatus(
            connection.Database,
            current?.ToString(),
            latest?.ToString(),
            pending,
            problems,
            history.Where(row => !row.Success && row.InstalledRank > lastSuccess).ToList(),
            await DeploymentLock.FindHolderAsync(connection, cancellationToken));
    }

    static (IReadOnlyList<string> Pending, IReadOnlyList<string> Problems) TryPlan(MigrationCatalog catalog, IReadOnlyList<HistoryRow> history, AppVersion? latest)
    {
        if (latest is null)
            return ([], [$"{catalog.Directory} holds no version folder"]);
        if (UpgradePlanner.FindProblems(catalog, history, latest.Value) is { Count: > 0 } problems)
            return ([], problems);
        var plan = UpgradePlanner.Plan(catalog, history, latest.Value);
        return (plan.Steps.Select(planned => $"{planned.Step.DisplayName} ({planned.Phase}{(planned.OutsideTransaction ? ", no transaction" : "")})").ToList(), []);
    }

    public string Describe()
    {
        var lines = new List<string>
        {
            $"Database {Database}: version {CurrentVersion ?? "none (no deployment history)"}; newest in the migrations folder: {LatestVersion ?? "none"}.",
            PendingSteps.Count == 0 ? "Nothing pending." : $"Pending ({PendingSteps.Count}):",
        };
        lines.AddRange(PendingSteps.Select(step => $"  {step}"));
        lines.AddRange(Problems.Select(problem => $"Drift: {problem}"));
        lines.AddRange(RecentFailures.Select(row => $"Failed on {row.AppliedAt:yyyy-MM-dd HH:mm} (run {row.RunId}): v{row.Version}/{row.Name}: {row.ErrorMessage}"));
        if (LockHolder is not null)
            lines.Add($"A deployment is running now: {LockHolder}.");
        return string.Join(Environment.NewLine, lines);
    }
}
