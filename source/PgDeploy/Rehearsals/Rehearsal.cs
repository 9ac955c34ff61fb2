using System.Diagnostics;
using Dapper;
using Npgsql;
using PgDeploy.Deployments;
using PgDeploy.Environments;
using PgDeploy.Migrations;
using PgDeploy.Migrations.History;
using PgDeploy.Migrations.PostProcessing;
using PgDeploy.Postgres;
using PgDeploy.Safety;
using PgDeploy.Safety.Verification;
using Serilog;

namespace PgDeploy.Rehearsals;

/// <summary>
/// Rehearse: a fresh dump of the live database (a consistent snapshot, no fence), restored into a scratch database, upgraded
/// there by Migrate, PostProcess and Verify exactly as Deploy will, timed, and dropped. It proves the dump restorable, finds what
/// breaks the upgrade before anyone is fenced, and predicts the window. The live database is only read: no fence, no hook, no
/// history row, no journal. The scratch is named &lt;db&gt;__rehearse_&lt;run id&gt;; one that a killed rehearsal left is dropped by the next.
/// </summary>
/// <param name="rehearsalServer">The rehearsal server's connection string, from the variable rehearsal.server names; null for the live server.</param>
public sealed class Rehearsal(DeploymentRequest request, string? rehearsalServer)
{
    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var target = request.TargetVersion ?? throw new DeploymentRefusedException(
            "No --version given: name the application version to rehearse, e.g. --version 0.4; nothing was changed.");
        var live = await request.ConnectionString(cancellationToken);
        var site = await DeploymentSite.OpenAsync(live, cancellationToken);
        var server = await RehearsalServer.ResolveAsync(live, site.Identity, rehearsalServer, request.Settings.Rehearsal.Server, cancellationToken);
        var runId = Guid.NewGuid().ToString("N")[..8];
        var scratch = RestoreNames.Rehearsal(site.Identity.Database, runId);
        var scratchPrefix = scratch[..^runId.Length];
        var lockWait = request.Settings.Migrations.DeploymentLockWait;
        // One rehearsal of a database at a time, so that whatever carries its scratch prefix is a leftover of a killed one.
        await using var rehearsalLock = await DeploymentLock.AcquireAsync(
            DatabaseAdmin.WithDatabase(server.ConnectionString, scratchPrefix), $"rehearsal {runId}", lockWait, cancellationToken);
        var workDirectory = Path.Combine(request.BackupDirectory, $"rehearsal-{site.Identity.Key}");
        await DropLeftoversAsync(server, scratchPrefix, workDirectory, cancellationToken);

        var startedAt = DateTimeOffset.UtcNow;
        var options = new HarborKeeper(request, site).Options;
        UpgradePlan plan;
        var dumpTime = TimeSpan.Zero;
        var phases = new Dictionary<string, TimeSpan>();
        TimeSpan? restoreTime = null;
        TimeSpan? cloneTime = null;
        var clones = false;
        string? failure = null;
        IReadOnlyDictionary<string, double> stepSeconds;
        try
        {
            SafeHarbor dump;
            // The live database's deployment lock while it is read: a Deploy waits for the dump instead of meeting its table locks.
            await using (await DeploymentLock.AcquireAsync(live, $"rehearsal {runId}", lockWait, cancellationToken))
            {
                RefuseUnfinishedDeployment(site.Identity);
                await using (var connection = await site.OpenAsync(cancellationToken))
                    plan = UpgradePlanner.Plan(request.Catalog(), await HistoryTable.ReadAsync(connection, null, cancellationToken), target, runId);
                if (plan.IsEmpty)
                    return $"database {site.Identity.Database} is at {plan.CurrentVersion}: nothing to rehearse";
                Log.Information("Rehearsing {From} -> {To} of database {Database} in the scratch database {Scratch} on {Server}",
                    plan.CurrentVersion?.ToString() ?? "empty", target, site.Identity.Database, scratch, server.Description);
                await RefuseWithoutRoomAsync(live, cancellationToken);
                clones = await ClonesLiveAsync(site, cancellationToken);
                await RefuseWithoutServerRoomAsync(server, site, clones, cancellationToken);
                var clock = Stopwatch.StartNew();
                dump = await new SafeHarborBackup(request.Settings.Backup with { Directory = workDirectory, Keep = 1 }, options)
                    .TakeAsync(live, request.EnvironmentName, plan.CurrentVersion?.ToString(), runId, cancellationToken);
                dumpTime = clock.Elapsed;
            }

            var stage = "restoring the dump into the scratch database";
            try
            {
                restoreTime = await RestoreScratchAsync(server, site, dump, scratch, runId, options, cancellationToken);
                if (clones)
                {
                    stage = "cloning the scratch database as Backup clones the live one";
                    cloneTime = await TimeCloneAsync(server, RestoreNames.Rehearsal(site.Identity.Database, $"{runId}_harbor"), scratch, cancellationToken);
                }
                stage = "upgrading the scratch database";
                await UpgradeScratchAsync(server, site.Identity, scratch, target, runId, dump, phases, cancellationToken);
            }
            // An interruption is no finding: a step cancelled by Ctrl-C fails too, and must not be recorded as the upgrade's failure.
            catch (Exception exception) when (exception is not (OperationCanceledException or DeploymentRefusedException) && !cancellationToken.IsCancellationRequested)
            {
                failure = $"{stage}: {(exception is StepFailedException step ? step.Headline : exception.Message).TrimEnd('.')}";
            }
        }
        finally
        {
            stepSeconds = await StepSecondsAsync(server, scratch, runId);
            await DropScratchAsync(server, scratch);
            DeleteWorkDirectory(workDirectory);
        }

        var record = new RehearsalRecord
        {
            RunId = runId,
            Environment = request.EnvironmentName,
            Database = site.Identity,
            Server = server.Description,
            FromVersion = plan.CurrentVersion?.ToString(),
            TargetVersion = target.ToString(),
            StartedAt = startedAt,
            FinishedAt = DateTimeOffset.UtcNow,
            Passed = failure is null,
            Failure = failure,
            Steps = plan.Steps.Select(planned => new RehearsedStep(
                planned.Step.Version.ToString(), planned.Step.FileName, planned.Step.Kind == StepKind.Sql ? "sql" : "csharp", planned.Step.Checksum,
                planned.Phase.ToString(), stepSeconds.TryGetValue(planned.Step.DisplayName, out var seconds) ? seconds : null)).ToList(),
            Targets =
            [
                MeasuredOrAllowance(site.Identity, "MaintenanceOn", request.Settings.Rehearsal.MaintenanceOnAllowance, "maintenanceOnAllowance"),
                cloneTime is { } clone
                    ? new PredictedTarget("Backup", clone.TotalSeconds, "a CREATE DATABASE … TEMPLATE of the scratch copy, as Backup clones the live database (backup.mode clone+dump)")
                    : new PredictedTarget("Backup", dumpTime.TotalSeconds, "the rehearsal's dump of the live database, verified as Backup verifies it"),
                new PredictedTarget("Migrate", phases.GetValueOrDefault("Migrate").TotalSeconds, "on the scratch copy"),
                new PredictedTarget("PostProcess", phases.GetValueOrDefault("PostProcess").TotalSeconds, "on the scratch copy"),
                new PredictedTarget("Verify", phases.GetValueOrDefault("Verify").TotalSeconds, "checks and commit on the scratch copy"),
                MeasuredOrAllowance(site.Identity, "Restart", request.Settings.Rehearsal.RestartAllowance, "restartAllowance"),
            ],
            RestoreSeconds = restoreTime?.TotalSeconds,
            PrecomputeSeconds = phases.TryGetValue("Precompute", out var precompute) ? precompute.TotalSeconds : null,
        };
        var path = RehearsalRecord.PathFor(request.DeploymentsDirectory, site.Identity);
        record.Save(path);
        Log.Information("Rehearsal {Outcome}: {Targets}; a restore of the dump took {Restore}; record {Path}",
            failure is null ? "passed" : "FAILED",
            string.Join(", ", record.Targets.Select(predicted => $"{predicted.Name} {predicted.Seconds:0.0} s")),
            restoreTime is { } restore ? $"{restore.TotalSeconds:0.0} s" : "(not finished)", path);
        if (failure is not null)
            throw new DeploymentException(
                $"The rehearsal of {record.FromVersion ?? "empty"} -> {target} failed, before anyone was fenced: {failure}. The live database was only read " +
                $"(no fence, no hook, no history row) and the scratch copy is dropped. Fix the migration or the data, then run ./build.sh Rehearse --version {target} " +
                $"--target-env {request.EnvironmentName} again before deploying.");
        return $"passed; {record.Describe()}";
    }

    /// Whether Backup will clone the live database (backup.mode clone+dump, stated or allowed by the server), so that the
    /// window's Backup is a clone, not a dump.
    async Task<bool> ClonesLiveAsync(DeploymentSite site, CancellationToken cancellationToken) =>
        request.Settings.Backup.Mode != BackupMode.Dump && (await SafeHarborClone.CheckAsync(site.ConnectionString, cancellationToken)).Possible;

    /// The clone of the scratch copy, named under the scratch's prefix so that a killed rehearsal's next run drops it too.
    static async Task<TimeSpan> TimeCloneAsync(RehearsalServer server, string clone, string scratch, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await SafeHarborClone.CreateAsync(server.ConnectionString, scratch, clone, cancellationToken);
        var elapsed = clock.Elapsed;
        await SafeHarborClone.DropAsync(server.ConnectionString, scratch, clone, cancellationToken);
        return elapsed;
    }

    /// A rehearsal beside a half-done deployment would dump a fenced, half-upgraded database and predict nothing useful.
    void RefuseUnfinishedDeployment(DatabaseIdentity database)
    {
        if (DeploymentJournal.Load(request.JournalPath ?? DeploymentJournal.DefaultPath(request.DeploymentsDirectory, database)) is { } journal
            && journal.Database == database && StateMachine.IsActive(journal.State))
            throw new DeploymentRefusedException(
                $"Deployment {journal.RunId} of database '{database.Database}' ({journal.FromVersion ?? "empty"} -> {journal.TargetVersion}) is " +
                $"{StateMachine.Describe(journal.State)}, so a rehearsal now would rehearse a half-done deployment. Finish or undo it first " +
                $"({StateMachine.NextCommand(journal.State, journal.FromVersion, journal.TargetVersion, request.EnvironmentName)}); nothing was changed.");
    }

    /// The rehearsal's dump goes where the safe harbors go, and needs the room one needs.
    async Task RefuseWithoutRoomAsync(string live, CancellationToken cancellationToken)
    {
        try
        {
            Log.Information("Backup directory: {Room}", await DiskSpace.CheckRoomForBackupAsync(live, request.BackupDirectory, cancellationToken));
        }
        catch (DeploymentException exception) when (exception is not DeploymentRefusedException)
        {
            throw new DeploymentRefusedException($"{exception.Message} The rehearsal dumps there too; nothing was changed.", exception);
        }
    }

    /// The scratch copy, and the clone of it Backup's is timed on, live on the rehearsal server's disk: on the live server by
    /// default, whose database stops when that disk fills. Refused without room; a server whose disk cannot be seen is named.
    async Task RefuseWithoutServerRoomAsync(RehearsalServer server, DeploymentSite site, bool clones, CancellationToken cancellationToken)
    {
        long size;
        await using (var connection = await site.OpenAsync(cancellationToken))
            size = await DatabaseAdmin.SizeAsync(connection, cancellationToken: cancellationToken);
        var copies = clones ? 2 : 1;
        var what = $"{(copies == 2 ? "the scratch copy and its clone" : "the scratch copy")} ({copies} × {size / 1024.0 / 1024.0:N0} MiB)";
        var room = await SafeHarborClone.CheckServerRoomAsync(server.ConnectionString, copies * size, what, cancellationToken);
        switch (room.Enough)
        {
            case true:
                Log.Information("Rehearsal server: {Room}", room.Reason);
                break;
            case false:
                throw new DeploymentRefusedException(
                    $"The rehearsal would restore the database on {server.Description}, but {room.Reason}. Free space there, or name a rehearsal server " +
                    "with room (rehearsal.server in the environment); nothing was changed.");
            default:
                Log.Warning("Rehearsal server {Server}: {Reason}; the rehearsal needs room there for {What}", server.Description, room.Reason, what);
                break;
        }
    }

    /// <returns>How long creating, restoring and counting took: about what a Rollback's restore costs.</returns>
    async Task<TimeSpan> RestoreScratchAsync(
        RehearsalServer server, DeploymentSite site, SafeHarbor dump, string scratch, string runId, SafeHarborOptions options, CancellationToken cancellationToken)
    {
        DatabaseProperties properties;
        await using (var liveDatabase = await site.OpenAsync(cancellationToken))
            properties = await DatabaseProperties.ReadAsync(liveDatabase, site.Identity.Database, cancellationToken);
        await using var maintenance = await SafetyConnection.OpenAsync(server.ConnectionString, null, cancellationToken);
        await server.CheckRolesAsync(site.ConnectionString, maintenance.UserName!, maintenance, cancellationToken);
        var (serverVersionNum, _) = await SafetyConnection.ReadServerVersionAsync(maintenance, cancellationToken);
        var pgRestore = await SafeHarborBackup.FindPgRestoreAsync(dump.Manifest, serverVersionNum / 10000, options, cancellationToken);

        var clock = Stopwatch.StartNew();
        // Created, restored, counted and given the live database's settings as a Rollback's restore does, so that the upgrade meets
        // the same search_path and timeouts as in production; vacuumed as well as analyzed, because a live table has its hint bits
        // and visibility map set, and a freshly restored one would make the upgrade's first pass over it write them, and look slower.
        await SafetyConnection.ExecuteAsync(maintenance, properties.CreateStatement(scratch), cancellationToken);
        await new SafeHarborRestore(request.Settings.Backup, options).LoadAsync(
            dump, pgRestore, maintenance, server.ConnectionString, scratch, $"pgdeploy rehearsal {runId}", cancellationToken);
        // Counting and vacuuming a large database takes longer than a command's default 30 s.
        var unlimited = new NpgsqlConnectionStringBuilder(server.ConnectionString) { CommandTimeout = 0 }.ConnectionString;
        TimeSpan restored;
        await using (var scratchDatabase = await SafetyConnection.OpenAsync(unlimited, scratch, cancellationToken))
        {
            await SafeHarborRestore.CheckRowCountsAsync(scratchDatabase, dump.Manifest, cancellationToken);
            restored = clock.Elapsed;
            await SafetyConnection.ExecuteAsync(scratchDatabase, "VACUUM (ANALYZE)", cancellationToken);
        }
        foreach (var statement in properties.CarryOverStatements(await DatabaseProperties.ReadAsync(maintenance, scratch, cancellationToken)))
            await SafetyConnection.ExecuteAsync(maintenance, statement, cancellationToken);
        Log.Information("Restored the dump into {Scratch} in {Restored:0.0} s, vacuumed and analyzed it in {Vacuumed:0.0} s",
            scratch, restored.TotalSeconds, (clock.Elapsed - restored).TotalSeconds);
        return restored;
    }

    /// Precompute, then Migrate, PostProcess and Verify in one transaction committed after Verify, as Deploy runs them; each phase timed.
    async Task UpgradeScratchAsync(
        RehearsalServer server, DatabaseIdentity live, string scratch, AppVersion target, string runId, SafeHarbor dump,
        Dictionary<string, TimeSpan> phases, CancellationToken cancellationToken)
    {
        var connectionString = DatabaseAdmin.WithDatabase(server.ConnectionString, scratch);
        await RefuseLiveAsync(connectionString, live, scratch, cancellationToken);
        await using var run = new UpgradeRun(connectionString, request.Catalog(), target, request.Settings.Migrations, runId, progress: request.Console.Progress);
        var plan = await run.PlanAsync(cancellationToken);
        // Deploy precomputes the data steps' rows before the fence, so that PostProcess inside it computes only the rest: so does the rehearsal.
        var clock = Stopwatch.StartNew();
        foreach (var transform in await DataStepPrecompute.RunAsync(connectionString, plan, StepMode.Precompute, request.Settings.Migrations, request.Console.Progress, cancellationToken))
            Log.Information("Precompute: {Coverage}", transform.Describe());
        phases["Precompute"] = clock.Elapsed;
        foreach (var phase in new[] { UpgradePhase.Migrate, UpgradePhase.PostProcess })
        {
            clock.Restart();
            await run.ApplyAsync(phase, commit: false, cancellationToken);
            phases[phase.ToString()] = clock.Elapsed;
        }
        clock.Restart();
        var session = run.Session!;
        var verifyDirectory = Path.Combine(request.Catalog().Find(target)!.Directory, MigrationCatalog.VerifyFolder);
        var report = await new IntegrityVerifier(session.Connection, await session.TransactionForChecksAsync(cancellationToken))
            .VerifyAsync(verifyDirectory, dump.Manifest.RowCountsByName, cancellationToken);
        Log.Information("Verify: {Summary}", report.Summary);
        Log.Debug("{Report}", report.ToMarkdown());
        report.ThrowIfFailed("The scratch copy's upgrade is not committed.");
        await run.CommitAsync(cancellationToken);
        phases["Verify"] = clock.Elapsed;
    }

    /// The last guard before anything is written: the session the upgrade runs in is on the scratch database, not on the live one.
    static async Task RefuseLiveAsync(string connectionString, DatabaseIdentity live, string scratch, CancellationToken cancellationToken)
    {
        await using var connection = await SafetyConnection.OpenAsync(connectionString, null, cancellationToken);
        var identity = await DatabaseIdentity.ReadAsync(connection, cancellationToken);
        if (identity == live || identity.Database != scratch)
            throw new DeploymentRefusedException(
                $"The rehearsal's upgrade would run in {identity}, which is not its scratch database '{scratch}' (the live database is {live}): " +
                "refusing to change it. Check rehearsal.server and the connection URLs; nothing was changed.");
    }

    /// Each step's time as the scratch's history recorded it, failures included; read before the scratch is dropped.
    static async Task<IReadOnlyDictionary<string, double>> StepSecondsAsync(RehearsalServer server, string scratch, string runId)
    {
        try
        {
            await using var connection = await SafetyConnection.OpenAsync(server.ConnectionString, scratch, CancellationToken.None);
            return (await HistoryTable.ReadAsync(connection, null, CancellationToken.None))
                .Where(row => row.RunId == runId)
                .GroupBy(row => $"{row.AppVersion.FolderName}/{row.Name}")
                .ToDictionary(step => step.Key, step => step.Last().DurationMs / 1000.0);
        }
        catch (Exception exception) when (exception is DeploymentException or NpgsqlException)
        {
            return new Dictionary<string, double>();
        }
    }

    /// The application's part of the window, which no scratch copy can time (MaintenanceOn stops it, Restart starts it): as the
    /// last deployment of this database measured it, else the environment's allowance.
    PredictedTarget MeasuredOrAllowance(DatabaseIdentity database, string target, TimeSpan allowance, string setting) =>
        DeploymentJournal.Load(DeploymentJournal.DefaultPath(request.DeploymentsDirectory, database)) is { } journal
        && journal.Targets.LastOrDefault(outcome => outcome.Name == target && outcome.Status == "Succeeded") is { } measured
            ? new PredictedTarget(target, measured.Duration.TotalSeconds, $"as deployment {journal.RunId} measured it")
            : new PredictedTarget(target, allowance.TotalSeconds, $"rehearsal.{setting}: no deployment of this database measured one yet");

    static async Task DropLeftoversAsync(RehearsalServer server, string scratchPrefix, string workDirectory, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> leftovers;
        await using (var connection = await SafetyConnection.OpenAsync(server.ConnectionString, null, cancellationToken))
            leftovers = [.. await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT datname FROM pg_database WHERE starts_with(datname, @scratchPrefix) ORDER BY 1", new { scratchPrefix }, cancellationToken: cancellationToken))];
        foreach (var leftover in leftovers)
        {
            if (await ScratchDatabase.DropAsync(server.ConnectionString, leftover, "scratch database of an earlier rehearsal") is { } notDropped)
                throw new DeploymentRefusedException($"A rehearsal that was stopped left its scratch database behind, and {notDropped} Then run again; nothing was changed.");
            Log.Warning("Dropped {Database}, the scratch database of an earlier rehearsal that was stopped before it could drop it", leftover);
        }
        if (Directory.Exists(workDirectory))
        {
            DeleteWorkDirectory(workDirectory);
            Log.Warning("Removed {Directory}, the dump of an earlier rehearsal that was stopped before it could remove it", workDirectory);
        }
    }

    static async Task DropScratchAsync(RehearsalServer server, string scratch)
    {
        if (!await DatabaseAdmin.ExistsAsync(server.ConnectionString, scratch, CancellationToken.None))
            return;
        if (await ScratchDatabase.DropAsync(server.ConnectionString, scratch, "rehearsal's scratch database") is { } notDropped)
            Log.Warning("The rehearsal could not clean up: {NotDropped} The next rehearsal drops it too", notDropped);
        else
            Log.Information("Dropped the scratch database {Scratch}", scratch);
    }

    /// The rehearsal's dump holds the whole database: it goes, whatever the outcome.
    static void DeleteWorkDirectory(string directory)
    {
        if (!Directory.Exists(directory))
            return;
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
            ReadOnlyDump.Delete(entry, Directory.Exists(entry) ? DumpFormat.Directory : DumpFormat.Custom);
        Directory.Delete(directory);
    }
}
