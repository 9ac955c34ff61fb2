using System.Text.Json;
using PgDeploy.Deployments;
using PgDeploy.Environments;
using PgDeploy.Migrations;
using PgDeploy.Safety;
using Serilog;

namespace PgDeploy.Rehearsals;

/// A step of the rehearsed plan as the history records it, with how long it took on the scratch copy (null: it did not run).
public sealed record RehearsedStep(string Version, string Name, string Kind, string Checksum, string Phase, double? Seconds);

/// A target of the deployment's window and how long the rehearsal predicts it, with how that figure was found.
public sealed record PredictedTarget(string Name, double Seconds, string Source);

/// What one rehearsal found, written beside the database's journal as rehearsal.json (the last rehearsal only): the plan it
/// ran with its checksums, each step's and target's time, the predicted window, and its outcome. Deploy reads it to show the
/// predicted window and each step's ETA, and a production environment may require it.
public sealed record RehearsalRecord
{
    public const string FileName = "rehearsal.json";

    public required string RunId { get; init; }
    public required string Environment { get; init; }
    public required DatabaseIdentity Database { get; init; }
    /// Where the scratch copy ran: "the live server" or the rehearsal server's host and port.
    public required string Server { get; init; }
    public required string? FromVersion { get; init; }
    public required string TargetVersion { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public required bool Passed { get; init; }
    /// The error that would have stopped the deployment, found before anyone was fenced.
    public string? Failure { get; init; }
    public required IReadOnlyList<RehearsedStep> Steps { get; init; }
    /// Backup, Migrate, PostProcess, Verify and Restart, in the order Deploy runs them.
    public required IReadOnlyList<PredictedTarget> Targets { get; init; }
    /// How long restoring the dump into a new database took: about what a Rollback's restore costs (not part of the window).
    public double? RestoreSeconds { get; init; }
    /// How long Precompute took on the scratch copy from scratch: before the fence, not part of the window.
    public double? PrecomputeSeconds { get; init; }

    /// From the fence going up to the application answering again.
    public double PredictedWindowSeconds => Targets.Sum(target => target.Seconds);

    public static string PathFor(string deploymentsDirectory, DatabaseIdentity database) =>
        Path.Combine(Path.GetDirectoryName(DeploymentJournal.DefaultPath(deploymentsDirectory, database))!, FileName);

    public static RehearsalRecord? Load(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize<RehearsalRecord>(File.ReadAllText(path), DeploymentJournal.Options) ?? throw new JsonException("it is empty");
        }
        catch (JsonException exception)
        {
            throw new DeploymentRefusedException(
                $"The rehearsal record {path} cannot be read ({exception.Message}). Delete it and run ./build.sh Rehearse again; nothing was changed.");
        }
    }

    /// Written under a temporary name and renamed, so that a kill never leaves half a record for Deploy to trip over.
    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, DeploymentJournal.Options));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// The same database, versions and steps with the same checksums: the rehearsal ran what this plan will run.
    public bool IsOf(DatabaseIdentity database, UpgradePlan plan) =>
        Database == database && TargetVersion == plan.TargetVersion.ToString() && FromVersion == plan.CurrentVersion?.ToString()
        && Steps.Select(step => (step.Version, step.Name, step.Checksum))
            .SequenceEqual(plan.Steps.Select(planned => (planned.Step.Version.ToString(), planned.Step.FileName, planned.Step.Checksum)));

    public string Describe() => $"predicted window {PredictedWindowSeconds:0} s (rehearsal {StartedAt.UtcDateTime:yyyy-MM-dd HH:mm})";

    /// <summary>
    /// For Prerequisites: the passing rehearsal of this plan that is recent enough, and the check's figure; without one, an
    /// environment with rehearsal.required refuses, naming the command that makes one.
    /// </summary>
    public static (RehearsalRecord? Match, string Figure) ForDeployment(DeploymentRequest request, DatabaseIdentity database, UpgradePlan plan)
    {
        var settings = request.Settings.Rehearsal;
        RehearsalRecord? last = null;
        string? unreadable = null;
        try
        {
            last = Load(PathFor(request.DeploymentsDirectory, database));
        }
        // A broken record must not stop a deployment that does not require a rehearsal.
        catch (DeploymentRefusedException exception)
        {
            unreadable = exception.Message;
        }
        var age = last is null ? TimeSpan.Zero : DateTimeOffset.UtcNow - last.FinishedAt;
        var problem = last switch
        {
            null => unreadable ?? "no rehearsal of this database is recorded",
            _ when !last.IsOf(database, plan) =>
                $"the last rehearsal ({last.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC) ran {last.FromVersion ?? "empty"} -> {last.TargetVersion} with other steps or checksums than this plan",
            _ when !last.Passed => $"the last rehearsal of this plan ({last.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC) failed: {last.Failure}",
            _ when age > settings.MaxAge => $"the last rehearsal of this plan finished {SafeHarborBackup.Describe(age)} ago, and rehearsal.maxAge is {SafeHarborBackup.Describe(settings.MaxAge)}",
            _ => null,
        };
        if (problem is null)
            return (last, last!.Describe());
        var command = $"./build.sh Rehearse --version {plan.TargetVersion} --target-env {request.EnvironmentName}";
        if (settings.Required)
            throw new DeploymentException(
                $"'{request.EnvironmentName}' requires a passing rehearsal of this plan no older than {SafeHarborBackup.Describe(settings.MaxAge)} " +
                $"(rehearsal.required in {request.Environment.SettingsFile}), and {problem}. Run {command} first (it fences nothing and leaves the database as it is).");
        return (null, $"none that matches: {problem}; {command} predicts the window");
    }

    /// Logs, as a target of Deploy starts, how long the rehearsal took for it and when it and the window should end.
    public void AnnounceStart(string target)
    {
        var index = Targets.ToList().FindIndex(predicted => predicted.Name == target);
        if (index < 0)
            return;
        var now = DateTimeOffset.UtcNow;
        Log.Information("{Target}: {Seconds:0.0} s in the rehearsal; ETA {Eta:HH:mm:ss} UTC, window ends about {End:HH:mm:ss} UTC",
            target, Targets[index].Seconds, now.AddSeconds(Targets[index].Seconds), now.AddSeconds(Targets.Skip(index).Sum(predicted => predicted.Seconds)));
    }
}
