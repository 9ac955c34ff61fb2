using System.Diagnostics;
using System.Text;
using Npgsql;
using PgDeploy.Deployments;
using PgDeploy.Environments;
using PgDeploy.Migrations;
using PgDeploy.Migrations.History;
using PgDeploy.Reporting;
using Serilog;

namespace PgDeploy.Fleets;

/// <summary>
/// Deploys a fleet wave by wave. Each database gets a deployment of its own, which the caller runs (the build program, in a
/// process per database): this class decides which start, reads where each ended, and writes the fleet report.
/// </summary>
/// <param name="deployOne">Deploys one database and returns its exit code (null when it was interrupted with the fleet) and the file that holds its output.</param>
/// <param name="connectionStringOf">The connection string of one of the fleet's databases.</param>
public sealed class FleetDeployment(
    Fleet fleet, AppVersion target, Func<string, CancellationToken, Task<(int? ExitCode, string Log)>> deployOne, Func<string, string> connectionStringOf, string deploymentsDirectory)
{
    /// <returns>The outcome of each database, in the fleet's order.</returns>
    public async Task<FleetReport> RunAsync(string reportDirectory, CancellationToken cancellationToken)
    {
        Log.Information("Fleet {Environment}: {Count} database(s) in {Waves} wave(s): a canary of {Canary}, then {Parallelism} at a time; on a failure, {Policy}",
            fleet.Environment, fleet.Databases.Count, fleet.Waves.Count, fleet.Settings.Canary, fleet.Settings.Parallelism, fleet.Settings.OnFailure.ToString().ToLowerInvariant());
        var outcomes = new List<FleetMemberOutcome>();
        var stopped = false;
        foreach (var (wave, number) in fleet.Waves.Select((wave, index) => (wave, index + 1)))
        {
            if (stopped || cancellationToken.IsCancellationRequested)
            {
                outcomes.AddRange(wave.Select(database => FleetMemberOutcome.NotStarted(database, number)));
                continue;
            }

            Log.Information("Fleet wave {Wave}/{Waves}{Canary}: {Databases}", number, fleet.Waves.Count, number <= fleet.Settings.Canary ? " (canary)" : "", string.Join(", ", wave));
            var results = await Task.WhenAll(wave.Select(database => DeployAsync(database, number, cancellationToken)));
            outcomes.AddRange(results);
            foreach (var result in results)
                Log.Information("  {Database}: {Outcome}", result.Database, result.Describe());
            // A database that needs a person stops the fleet whatever the policy: its cause may be the server's, not the database's.
            stopped = results.Any(result => result.Status == FleetMemberStatus.PersonNeeded)
                      || fleet.Settings.OnFailure == FleetFailurePolicy.Stop && results.Any(result => !result.Succeeded);
        }

        var report = new FleetReport(fleet.Environment, target.ToString(), fleet.Settings.OnFailure.ToString().ToLowerInvariant(), DateTimeOffset.UtcNow, outcomes);
        // Written also when the run was interrupted: it says which databases were not started.
        await JsonReport.WriteAsync(Path.Combine(reportDirectory, "fleet.json"), report, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(reportDirectory, "fleet.md"), report.Markdown(), CancellationToken.None);
        return report;
    }

    /// <summary>
    /// One database's deployment and where it ended. The fleet's own reads (versions, journal, log) only describe it: one
    /// that fails is noted in the outcome, and the fleet goes on as the deployment's exit code says.
    /// </summary>
    async Task<FleetMemberOutcome> DeployAsync(string database, int wave, CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        var before = await ReadAsync("its version before", () => VersionAsync(database, cancellationToken), notes);
        var journalBefore = await ReadAsync("its journal before", () => JournalAsync(database), notes);
        if (cancellationToken.IsCancellationRequested)
            return FleetMemberOutcome.NotStarted(database, wave);
        var stopwatch = Stopwatch.StartNew();
        int? exitCode;
        string log;
        try
        {
            (exitCode, log) = await deployOne(database, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The fleet's report is written whatever one database's run threw; where that database is, only it can say.
            return new FleetMemberOutcome(database, wave, FleetMemberStatus.Unknown, null, before, null, null, stopwatch.Elapsed.TotalSeconds, null,
                $"its deployment could not be run: {exception.Message}");
        }

        // Read also after an interrupt: the child has rolled back and exited, and the report must say where it ended.
        var after = await ReadAsync("its version after", () => VersionAsync(database, CancellationToken.None), notes);
        var journal = await ReadAsync("its journal", () => JournalAsync(database), notes);
        // This run wrote to the journal: a deployment started, or an earlier one of the same version finished (its Restart, say).
        var worked = journal is not null && (journal.RunId != journalBefore?.RunId || journal.Events.Count != journalBefore.Events.Count);
        // Refused while another run (Deploy --database, say) holds its lock: the deployment in its journal is that run's, not unfinished.
        var busy = exitCode == ExitCodes.Refused && await ReadAsync("its deployment lock", () => LockHolderAsync(database), notes) is not null;
        var status = exitCode switch
        {
            ExitCodes.Succeeded => worked || before != after ? FleetMemberStatus.Deployed : FleetMemberStatus.UpToDate,
            ExitCodes.PersonNeeded => FleetMemberStatus.PersonNeeded,
            ExitCodes.Refused when busy => FleetMemberStatus.Refused,
            _ when journal is not null && StateMachine.IsActive(journal.State) => FleetMemberStatus.Unfinished,
            ExitCodes.Refused => FleetMemberStatus.Refused,
            ExitCodes.Interrupted => FleetMemberStatus.Interrupted,
            // Interrupted with the fleet where its exit code cannot be read: rolled back only if its journal says so.
            null => journal is null ? FleetMemberStatus.Unknown : FleetMemberStatus.Interrupted,
            _ => FleetMemberStatus.Failed,
        };
        if (status == FleetMemberStatus.Unfinished)
            notes.Add($"its deployment is {StateMachine.Describe(journal!.State)}: " +
                      StateMachine.NextCommand(journal.State, journal.FromVersion, journal.TargetVersion, $"{fleet.Environment} --database {database}"));
        var window = status == FleetMemberStatus.Deployed ? journal?.FenceLiftedAt - journal?.FenceRaisedAt : null;
        // Its first error as the build program printed it, quoted for the person reading the fleet's report.
        var error = status is FleetMemberStatus.Deployed or FleetMemberStatus.UpToDate
            ? null
            : await ReadAsync("its log", async () => (await File.ReadAllLinesAsync(log, CancellationToken.None)).FirstOrDefault(line => line.StartsWith("[ERR] ", StringComparison.Ordinal))?[6..], notes);
        return new FleetMemberOutcome(database, wave, status, exitCode, before, after, window?.TotalSeconds, stopwatch.Elapsed.TotalSeconds, log,
            string.Join("; ", new[] { error }.Concat(notes).OfType<string>()) is { Length: > 0 } text ? text : null);
    }

    /// A read that fails is a note in the outcome, not the end of the fleet.
    static async Task<T?> ReadAsync<T>(string what, Func<Task<T?>> read, List<string> notes)
    {
        try
        {
            return await read();
        }
        catch (OperationCanceledException)
        {
            return default;
        }
        catch (Exception exception)
        {
            notes.Add($"{what} could not be read: {exception.Message}");
            return default;
        }
    }

    /// Not pooled: an idle session of the fleet's on a database would stop its deployment's Backup from cloning it.
    NpgsqlConnection Unpooled(string database) => new(new NpgsqlConnectionStringBuilder(connectionStringOf(database)) { Pooling = false }.ConnectionString);

    async Task<string?> VersionAsync(string database, CancellationToken cancellationToken)
    {
        await using var connection = Unpooled(database);
        await connection.OpenAsync(cancellationToken);
        return UpgradePlanner.CurrentVersion(await HistoryTable.ReadAsync(connection, null, cancellationToken))?.ToString();
    }

    async Task<string?> LockHolderAsync(string database)
    {
        await using var connection = Unpooled(database);
        await connection.OpenAsync(CancellationToken.None);
        return await DeploymentLock.FindHolderAsync(connection, CancellationToken.None);
    }

    /// Where the database's own deployment ended: its state, and the window from fence raised to fence lifted.
    async Task<DeploymentJournal?> JournalAsync(string database)
    {
        await using var connection = Unpooled(database);
        await connection.OpenAsync(CancellationToken.None);
        return DeploymentJournal.Load(DeploymentJournal.DefaultPath(deploymentsDirectory, await DatabaseIdentity.ReadAsync(connection, CancellationToken.None)));
    }
}

/// <summary>Where a database of the fleet ended: read from its deployment's exit code and journal.</summary>
public enum FleetMemberStatus
{
    Deployed,
    UpToDate,
    /// Failed and rolled back: as before.
    Failed,
    /// Refused before it changed anything.
    Refused,
    /// Interrupted with the fleet and rolled back: as before.
    Interrupted,
    /// Stopped in the middle of its deployment, which the next Deploy (or Rollback) of that database goes on with.
    Unfinished,
    /// Its deployment could not finish or undo what it started: its report says what a person must do.
    PersonNeeded,
    /// The fleet could not tell where its deployment ended: Status with --database says.
    Unknown,
    NotStarted,
}

/// <param name="ExitCode">The database's own deployment's exit code (none when it was interrupted with the fleet); its report says why.</param>
/// <param name="Error">The first error its deployment printed and the fleet's notes; the whole output is in <paramref name="Log"/>.</param>
public sealed record FleetMemberOutcome(
    string Database, int Wave, FleetMemberStatus Status, int? ExitCode, string? VersionBefore, string? VersionAfter, double? WindowSeconds, double? Seconds,
    string? Log, string? Error)
{
    public static FleetMemberOutcome NotStarted(string database, int wave) => new(database, wave, FleetMemberStatus.NotStarted, null, null, null, null, null, null, null);

    public bool Succeeded => Status is FleetMemberStatus.Deployed or FleetMemberStatus.UpToDate;

    /// Its deployment refused before changing anything, or never ran; an unfinished one refused was left so by an earlier run.
    public bool ChangedNothing => Status is FleetMemberStatus.UpToDate or FleetMemberStatus.Refused or FleetMemberStatus.NotStarted
                                  || Status == FleetMemberStatus.Unfinished && ExitCode == ExitCodes.Refused;

    public string Describe() => Status switch
    {
        FleetMemberStatus.Deployed => $"{(VersionBefore == VersionAfter ? $"finished its deployment of {VersionAfter}" : $"deployed {VersionBefore ?? "empty"} -> {VersionAfter}")}, " +
                                      $"window {WindowSeconds:0.0} s{(Error is null ? "" : $" ({Error})")}",
        FleetMemberStatus.UpToDate => $"already at {VersionAfter}{(Error is null ? "" : $" ({Error})")}",
        FleetMemberStatus.NotStarted => "not started: an earlier wave failed, or the run was interrupted",
        _ => $"{Label(Status)}{(ExitCode is { } code ? $" (exit {code})" : "")}, at {VersionAfter ?? "no version"}: {Error ?? "see its log"} (log {Log})",
    };

    public static string Label(FleetMemberStatus status) => status switch
    {
        FleetMemberStatus.UpToDate => "up to date",
        FleetMemberStatus.PersonNeeded => "a person is needed",
        FleetMemberStatus.Unknown => "outcome unknown",
        FleetMemberStatus.NotStarted => "not started",
        _ => status.ToString().ToLowerInvariant(),
    };
}

public sealed record FleetReport(string Environment, string TargetVersion, string OnFailure, DateTimeOffset FinishedAt, IReadOnlyList<FleetMemberOutcome> Databases)
{
    public int Count(FleetMemberStatus status) => Databases.Count(database => database.Status == status);

    public bool Succeeded => Databases.All(database => database.Succeeded);

    /// The counts that are always said, and the rarer outcomes only when they happened.
    public string Summary =>
        $"{Databases.Count} database(s): {Count(FleetMemberStatus.Deployed)} deployed, {Count(FleetMemberStatus.UpToDate)} already at {TargetVersion}, " +
        $"{Count(FleetMemberStatus.Failed)} failed, " +
        string.Concat(new[] { FleetMemberStatus.Refused, FleetMemberStatus.Interrupted, FleetMemberStatus.Unfinished, FleetMemberStatus.PersonNeeded, FleetMemberStatus.Unknown }
            .Where(status => Count(status) > 0).Select(status => $"{Count(status)} {(status == FleetMemberStatus.PersonNeeded ? "need a person" : FleetMemberOutcome.Label(status))}, ")) +
        $"{Count(FleetMemberStatus.NotStarted)} not started";

    /// <summary>
    /// What the fleet amounts to, as the outcome type that carries its exit code, or null when every database is deployed: a
    /// person needed outweighs everything, and refusals count as one only while no database of the fleet was changed.
    /// </summary>
    public DeploymentException? Failure(string reportPath)
    {
        if (Succeeded)
            return null;
        var message = $"Fleet '{Environment}': {Summary}; report {reportPath}. {Guidance()}";
        return Count(FleetMemberStatus.PersonNeeded) > 0 ? new PersonNeededException(message)
            : Databases.All(database => database.ChangedNothing)
                ? new DeploymentRefusedException(message)
                : new DeploymentException(message);
    }

    /// What each kind of outcome left behind, and what to run next.
    string Guidance()
    {
        var said = new List<string>();
        if (Count(FleetMemberStatus.PersonNeeded) > 0)
            said.Add("A database that needs a person comes first: its own report says what is half done and what to run");
        if (Count(FleetMemberStatus.Unknown) > 0)
            said.Add("where a database whose outcome is unknown stands, ./build.sh Status with its --database says");
        if (Count(FleetMemberStatus.Unfinished) > 0)
            said.Add("an unfinished one is in the middle of its deployment, which its line in the report says how to finish or undo");
        if (Count(FleetMemberStatus.Failed) + Count(FleetMemberStatus.Interrupted) > 0)
            said.Add("a failed or interrupted one was rolled back and is as it was before");
        if (Count(FleetMemberStatus.Refused) > 0)
            said.Add("a refused one was not changed");
        said.Add("running Deploy again once the cause is fixed deploys the rest and finds the deployed ones up to date");
        var text = string.Join("; ", said);
        return $"{char.ToUpperInvariant(text[0])}{text[1..]}.";
    }

    public string Markdown()
    {
        var text = new StringBuilder($"# Fleet deployment of {TargetVersion} to {Environment}\n\n{Summary} (on failure: {OnFailure}), {FinishedAt:yyyy-MM-dd HH:mm:ss} UTC.\n\n");
        text.Append("| database | wave | outcome | version | window | took |\n| --- | ---: | --- | --- | ---: | ---: |\n");
        foreach (var database in Databases)
            text.Append($"| {database.Database} | {database.Wave} | {database.Describe()} | {database.VersionAfter ?? ""} | {database.WindowSeconds:0.0} | {database.Seconds:0.0} |\n");
        if (!Succeeded)
            text.Append($"\nEach database's own report, journal and log say what happened to it. {Guidance()}\n");
        return text.ToString();
    }
}
