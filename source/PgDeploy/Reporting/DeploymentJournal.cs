using System.Text.Json;
using System.Text.Json.Serialization;

namespace PgDeploy.Reporting;

public enum DeploymentState { InProgress, Succeeded, Failed, RolledBack }

public sealed record JournalEvent(DateTimeOffset At, string Target, string Message);

public sealed record CheckRecord(string Name, string Figure, bool Passed, string Detail, bool Informational = false)
{
    public string Verdict => !Passed ? "failed" : Informational ? "info" : "passed";
}

/// One target of one process: a deployment run as CI stages, or followed by a Rollback by hand, spans several.
public sealed record TargetOutcome(string Name, string Status, TimeSpan Duration, IReadOnlyList<string> Notes, DateTimeOffset FinishedAt);

/// What a deployment knows about itself, kept in a file outside the database: a restore wipes what the
/// database knew of the failed run, and a CI stage in another process (or job) needs the run id, the
/// safe harbor and the counts that earlier stages produced. CI carries the file as an artifact.
public sealed class DeploymentJournal
{
    public required string RunId { get; init; }
    public required string Environment { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DeploymentState State { get; set; } = DeploymentState.InProgress;
    public string? Database { get; set; }
    public string? FromVersion { get; set; }
    public string? TargetVersion { get; set; }
    /// The safe-harbor dump of this deployment; its manifest lies beside it.
    public string? SafeHarbor { get; set; }
    public DateTimeOffset? FenceRaisedAt { get; set; }
    /// Set when Restart lifted the fence after the upgrade: from then on the application writes, and a
    /// restore of the safe harbor would discard what it wrote.
    public DateTimeOffset? FenceLiftedAt { get; set; }
    public List<CheckRecord> Checks { get; init; } = [];
    public List<TargetOutcome> Targets { get; init; } = [];
    public List<JournalEvent> Events { get; init; } = [];

    [JsonIgnore] public string Path { get; private set; } = "";

    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static string DefaultPath(string temporaryDirectory, string environment) =>
        System.IO.Path.Combine(temporaryDirectory, "deployments", environment, "journal.json");

    public static DeploymentJournal? Load(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            var journal = JsonSerializer.Deserialize<DeploymentJournal>(File.ReadAllText(path), Options) ?? throw new JsonException("empty");
            journal.Path = path;
            return journal;
        }
        catch (JsonException exception)
        {
            throw new DeploymentException($"The deployment journal {path} cannot be read ({exception.Message}). Restore it from the CI artifact of the run, or move it aside if that deployment is over.");
        }
    }

    /// Starts the journal of a new deployment; the finished one before it moves to a folder named after its run.
    public static DeploymentJournal Start(string path, string runId, string environment)
    {
        if (Load(path) is { } previous)
        {
            if (previous.State == DeploymentState.InProgress)
                throw new DeploymentException(
                    $"Deployment {previous.RunId} to '{environment}' (started {previous.StartedAt:yyyy-MM-dd HH:mm} UTC) is not finished: its journal {path} says it is in progress. " +
                    "Finish it first: ./build.sh Rollback to restore its safe harbor, or ./build.sh MaintenanceOff if the database is fine and only the fence is up; then move the journal aside.");
            previous.Archive();
        }
        var journal = new DeploymentJournal { RunId = runId, Environment = environment, StartedAt = DateTimeOffset.UtcNow, Path = path };
        journal.Save();
        return journal;
    }

    public string RunDirectory => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, RunId);

    public void Record(string target, string message)
    {
        Events.Add(new JournalEvent(DateTimeOffset.UtcNow, target, message));
        Save();
    }

    /// Written to a temporary file and renamed, so that a crash never leaves half a journal.
    public void Save()
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var temporary = Path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Options));
        File.Move(temporary, Path, overwrite: true);
    }

    void Archive()
    {
        Directory.CreateDirectory(RunDirectory);
        File.Move(Path, System.IO.Path.Combine(RunDirectory, "journal.json"), overwrite: true);
    }
}
