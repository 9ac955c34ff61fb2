using PgDeploy.Migrations.History;

namespace PgDeploy.Migrations;

/// Compares the migrations folder with the database's history and plans what remains, refusing
/// before anything runs when the two disagree.
public static class UpgradePlanner
{
    public static AppVersion? CurrentVersion(IEnumerable<HistoryRow> history) =>
        history.Where(row => row.Success).Select(row => (AppVersion?)row.AppVersion).Max();

    /// Everything that stops a plan: catalog errors, edited or missing applied steps, gaps, a target that
    /// does not exist or lies behind the database.
    /// <param name="runId">The deployment this plan belongs to: a version it left partly applied (a CI stage that
    /// committed Migrate before the PostProcess stage) may be continued by it.</param>
    public static IReadOnlyList<string> FindProblems(MigrationCatalog catalog, IReadOnlyList<HistoryRow> history, AppVersion target, string? runId = null)
    {
        var problems = catalog.Errors.Select(problem => problem.ToString()).ToList();
        var applied = history.Where(row => row.Success).ToList();
        var baseline = BaselineVersion(applied);
        problems.AddRange(CheckAppliedSteps(catalog, history, applied, baseline, runId));
        if (catalog.Find(target) is null)
            problems.Add($"--version {target}: there is no folder {target.FolderName} in {catalog.Directory}; the versions there are {Versions(catalog)}.");
        var current = CurrentVersion(applied);
        if (current is { } at && at > target)
            problems.Add($"--version {target}: the database is already at {at}, which is newer. Migrations only go forward; to go back, restore the safe harbor with ./build.sh Rollback.");
        if (current is { } known && catalog.Find(known) is null && known != baseline)
            problems.Add($"The database is at {known}, but {catalog.Directory} has no folder {known.FolderName}: this checkout does not match the database. Deploy from the checkout that holds {known.FolderName}.");
        return problems;
    }

    public static UpgradePlan Plan(MigrationCatalog catalog, IReadOnlyList<HistoryRow> history, AppVersion target, string? runId = null)
    {
        var problems = FindProblems(catalog, history, target, runId);
        if (problems.Count > 0)
            throw new DeploymentRefusedException(
                $"The migrations cannot be applied; nothing was changed. Fix these and run again:{Environment.NewLine}" +
                string.Join(Environment.NewLine, problems.Select(problem => $"  - {problem}")));

        var applied = history.Where(row => row.Success).ToList();
        var baseline = BaselineVersion(applied);
        var pending = catalog.Versions
            .Where(folder => folder.Version <= target && (baseline is null || folder.Version > baseline))
            .SelectMany(folder => folder.Steps)
            .Where(step => !IsApplied(step, applied))
            .ToList();
        return new UpgradePlan(CurrentVersion(applied), target, Segment(pending, target));
    }

    static AppVersion? BaselineVersion(IEnumerable<HistoryRow> applied) =>
        applied.Where(row => row.Kind == "baseline").Select(row => (AppVersion?)row.AppVersion).Max();

    static IEnumerable<string> CheckAppliedSteps(MigrationCatalog catalog, IReadOnlyList<HistoryRow> history, List<HistoryRow> applied, AppVersion? baseline, string? runId)
    {
        foreach (var row in applied.Where(row => row.Kind != "baseline"))
        {
            var step = catalog.Find(row.AppVersion)?.Steps.FirstOrDefault(step => step.FileName == row.Name);
            var name = $"{row.AppVersion.FolderName}/{row.Name}";
            if (step is null)
                yield return $"{name} was applied on {row.AppliedAt:yyyy-MM-dd HH:mm} (run {row.RunId}) but is missing from {catalog.Directory}. Restore it from version control: an applied script stays in the folder for good.";
            else if (step.Checksum != row.Checksum)
                yield return $"{name} was edited after it was applied on {row.AppliedAt:yyyy-MM-dd HH:mm} (run {row.RunId}): the history records sha256 {row.Checksum}, the file now has {step.Checksum}. " +
                             "Revert the edit (git checkout the applied version) and put the change in a script of a new version.";
        }

        var appliedVersions = applied.Where(row => row.Kind != "baseline").Select(row => row.AppVersion).Distinct().ToList();
        var newestApplied = appliedVersions.Count > 0 ? appliedVersions.Max() : baseline;
        var unfinished = UnfinishedVersion(history, runId);
        foreach (var folder in catalog.Versions.Where(folder => folder.Version <= newestApplied && (baseline is null || folder.Version > baseline)))
        {
            var lastApplied = folder.Steps.Where(step => IsApplied(step, applied)).Select(step => step.Order).DefaultIfEmpty(int.MinValue).Max();
            var missing = folder.Steps.Where(step => !IsApplied(step, applied)).ToList();
            // A version is partly applied when the last run failed in it after a commit point, or when this very
            // deployment committed part of it in an earlier stage: its remaining steps follow. Any other step
            // missing from an applied version was added after the fact.
            var gaps = folder.Version == unfinished ? missing.Where(step => step.Order < lastApplied) : missing;
            foreach (var step in gaps)
                yield return $"{step.DisplayName} is not applied, but {folder.Version.FolderName} already is: it was added after the version was deployed. Move that work into a new version.";
        }
    }

    /// The version the latest history row is in, when that run failed there or is the deployment planning now.
    static AppVersion? UnfinishedVersion(IReadOnlyList<HistoryRow> history, string? runId) =>
        history.MaxBy(row => row.InstalledRank) is { } last && (!last.Success || last.RunId == runId) ? last.AppVersion : null;

    static bool IsApplied(MigrationStep step, List<HistoryRow> applied) =>
        applied.Any(row => row.AppVersion == step.Version && row.Name == step.FileName);

    /// Earlier versions run completely in Migrate (a later version's scripts may rely on their data steps);
    /// the target version's steps from its first C# step on are PostProcess.
    static List<PlannedStep> Segment(List<MigrationStep> pending, AppVersion target)
    {
        var firstDataStep = pending.FindIndex(step => step.Version == target && step.Kind == StepKind.CSharp);
        var planned = new List<PlannedStep>();
        var segment = 1;
        for (var index = 0; index < pending.Count; index++)
        {
            var step = pending[index];
            var outside = step is SqlScriptStep { RunsOutsideTransaction: true };
            var previousOutside = planned.Count > 0 && planned[^1].OutsideTransaction;
            if (planned.Count > 0 && (outside || previousOutside))
                segment++;
            var phase = firstDataStep >= 0 && index >= firstDataStep ? UpgradePhase.PostProcess : UpgradePhase.Migrate;
            planned.Add(new PlannedStep(step, phase, segment, outside));
        }
        return planned;
    }

    static string Versions(MigrationCatalog catalog) =>
        catalog.Versions.Count == 0 ? "none" : string.Join(", ", catalog.Versions.Select(folder => folder.Version));
}
