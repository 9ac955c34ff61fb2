using System.Text.Json;
using System.Text.Json.Serialization;
using PgDeploy.Migrations;
using PgDeploy.Migrations.Analysis;
using PgDeploy.Migrations.History;
using PgDeploy.Safety;

namespace PgDeploy.Deployments;

/// A copy of the database made with CREATE DATABASE … TEMPLATE inside the fence, with what its dump must show later.
/// <param name="Provenance">The database, history and fence it was made in, which its dump's manifest records.</param>
/// <param name="RowCounts">Exact row counts of the database when it was cloned: what Verify compares against, and its dump must hold.</param>
/// <param name="Gone">No longer there as a clone: dropped once its dump was verified or its deployment undone, or swapped in by a rollback.</param>
public sealed record HarborClone(string Name, DateTimeOffset MadeAt, HarborProvenance Provenance, IReadOnlyList<TableRowCount> RowCounts, bool Gone = false);

public sealed record JournalEvent(DateTimeOffset At, string Target, string Message);

public sealed record CheckRecord(string Name, string Figure, bool Passed, string Detail, bool Informational = false)
{
    public string Verdict => !Passed ? "failed" : Informational ? "info" : "passed";
}

/// One target of one process: a deployment run as CI stages, or finished by a later run, spans several.
public sealed record TargetOutcome(string Name, string Status, TimeSpan Duration, IReadOnlyList<string> Notes, DateTimeOffset FinishedAt);

/// What a deployment knows about itself, in a file outside the database, one per database (a restore wipes what
/// the database knew of the failed run, and a CI stage in another job needs what earlier stages did). Every
/// transition is written here before its effect, so a killed run leaves the step it was in, and the next run
/// finishes or undoes it. Only the holder of the deployment lock writes it.
public sealed class DeploymentJournal
{
    public const string FileName = "journal.json";

    public required string RunId { get; init; }
    public required string Environment { get; init; }
    public required DatabaseIdentity Database { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public string? FromVersion { get; set; }
    public required string TargetVersion { get; init; }
    public DeploymentState State { get; private set; }
    public RollbackMode? Rollback { get; set; }
    /// The safe-harbor dump of this deployment; its manifest lies beside it.
    public string? SafeHarbor { get; set; }
    /// The clone of the database made inside the fence (backup.mode clone+dump): the safe harbor until its dump is verified.
    public HarborClone? Clone { get; set; }
    public DateTimeOffset? FenceRaisedAt { get; set; }
    /// Set when the fence came down for good: from then on the application may write, and a restore of the
    /// safe harbor would discard what it wrote.
    public DateTimeOffset? FenceLiftedAt { get; set; }
    /// The new version of the application was started by Restart: after a restore, its code must be reverted.
    public bool NewApplicationStarted { get; set; }
    /// The sequences when the upgrade began: an upgrade rolled back by a kill or a crash leaves them advanced.
    public IReadOnlyList<SequenceValue>? SequencesBeforeUpgrade { get; set; }
    /// This run's failures as the history recorded them: a restore replaces the history, and they are written back.
    public List<HistoryEntry> FailedSteps { get; init; } = [];
    public string? LastFailure { get; set; }
    public List<CheckRecord> Checks { get; init; } = [];
    /// What the analysis before the fence found in the scripts, with the acknowledgements the report must show.
    public List<Finding> Findings { get; init; } = [];
    public List<TargetOutcome> Targets { get; init; } = [];
    public List<JournalEvent> Events { get; init; } = [];

    [JsonIgnore] public string Path { get; private set; } = "";

    [JsonConstructor]
    public DeploymentJournal(DeploymentState state) => State = state;

    internal static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static string DefaultPath(string deploymentsDirectory, DatabaseIdentity database) =>
        System.IO.Path.Combine(deploymentsDirectory, database.Key, FileName);

    public static DeploymentJournal? Load(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            var journal = JsonSerializer.Deserialize<DeploymentJournal>(File.ReadAllText(path), Options) ?? throw new JsonException("it is empty");
            journal.Path = path;
            return journal;
        }
        catch (JsonException exception)
        {
            throw new DeploymentRefusedException(
                $"The deployment journal {path} cannot be read ({exception.Message}), so it is unknown what the last deployment left half done. " +
                "Restore the file from the CI artifact of that run; nothing was changed.");
        }
    }

    /// Starts the journal of a new deployment; a finished one before it moves into the folder of its run.
    public static DeploymentJournal Start(string path, string runId, string environment, DatabaseIdentity database, string? fromVersion, string targetVersion)
    {
        if (Load(path) is { } previous)
        {
            if (StateMachine.IsActive(previous.State))
                throw new InvalidOperationException($"Deployment {previous.RunId} in {path} is unfinished; the caller must not start another.");
            previous.Archive();
        }
        var journal = new DeploymentJournal(DeploymentState.Idle)
        {
            RunId = runId, Environment = environment, Database = database, StartedAt = DateTimeOffset.UtcNow,
            FromVersion = fromVersion, TargetVersion = targetVersion, Path = path,
        };
        journal.Save();
        return journal;
    }

    public string RunDirectory => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, RunId);

    /// Writes the new state before the caller acts on it.
    public void Enter(DeploymentState state, string target, string message)
    {
        State = state;
        Record(target, message);
    }

    public void Record(string target, string message)
    {
        Events.Add(new JournalEvent(DateTimeOffset.UtcNow, target, message));
        Save();
    }

    /// Written to a temporary file, flushed to the disk and renamed, so that neither a kill nor a power cut
    /// leaves half a journal.
    public void Save()
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var temporary = Path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, this, Options);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, Path, overwrite: true);
    }

    void Archive()
    {
        Directory.CreateDirectory(RunDirectory);
        File.Move(Path, System.IO.Path.Combine(RunDirectory, FileName), overwrite: true);
    }
}
