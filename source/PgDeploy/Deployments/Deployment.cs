using System.Diagnostics;
using Npgsql;
using PgDeploy.Application;
using PgDeploy.Environments;
using PgDeploy.Migrations;
using PgDeploy.Migrations.Analysis;
using PgDeploy.Migrations.History;
using PgDeploy.Migrations.PostProcessing;
using PgDeploy.Rehearsals;
using PgDeploy.Safety;
using PgDeploy.Safety.Fence;
using PgDeploy.Safety.Verification;
using Serilog;

namespace PgDeploy.Deployments;

/// The one owner of a deployment's state: its journal, run id, fence, safe harbor, upgrade session and lock.
/// Each target asks it to take a step; it asks the state machine whether the step may run now, writes the
/// pending state to the journal before the step's effect, and the resulting state after it. A run killed at any
/// point leaves a journal from which the next run finishes or undoes the job.
public sealed class Deployment(DeploymentRequest request) : IAsyncDisposable
{
    readonly RunVerdict verdict = new();
    readonly List<CheckRecord> prerequisiteChecks = [];
    readonly List<Finding> prerequisiteFindings = [];
    DeploymentSite? site;
    DeploymentLock? deploymentLock;
    DeploymentJournal? journal;
    UpgradeRun? upgrade;
    /// The dump of the clone, started beside the upgrade (backup.dumpCloneDuringUpgrade); DumpClone takes it over.
    (Task<SafeHarbor> Dump, CancellationTokenSource Stop)? cloneDump;
    string? newRunId;
    AppVersion? plannedFrom;
    bool nothingToDeploy;
    RehearsalRecord? rehearsal;

    /// The journal this run wrote to or continued, if any: the report is written from it.
    public DeploymentJournal? Journal => journal is { } current && touched ? current : null;
    bool touched;

    public int? ExitCode(bool interrupted) => verdict.ExitCode(interrupted);

    string Environment => request.EnvironmentName;

    // ---------------------------------------------------------------- steps

    public Task<string> CheckPrerequisitesAsync(CancellationToken cancellationToken) =>
        StepAsync(DeploymentStep.Prerequisites, async () =>
        {
            await OpenAsync(lockIt: true, cancellationToken);
            var state = State;
            Admit(DeploymentStep.Prerequisites);
            var prerequisites = new PrerequisiteChecks(request, site!, journal is { } active && StateMachine.IsActive(active.State) ? active : null);
            var outcome = await prerequisites.RunAsync(RunId, cancellationToken);
            prerequisiteChecks.AddRange(outcome.Checks);
            prerequisiteFindings.AddRange(outcome.Findings ?? []);
            rehearsal = outcome.Rehearsal;
            if (StateMachine.IsActive(state))
            {
                journal!.Checks.AddRange(outcome.Checks);
                Record("Prerequisites", $"{outcome.Checks.Count} checks passed; continuing deployment {journal.RunId}, which is {StateMachine.Describe(state)}");
                return $"continues deployment {journal.RunId} ({StateMachine.Describe(state)})";
            }
            if (outcome.Plan.IsEmpty)
            {
                nothingToDeploy = true;
                return $"database {site!.Identity.Database} is at {outcome.Plan.CurrentVersion}: nothing to deploy";
            }
            plannedFrom = outcome.Plan.CurrentVersion;
            return $"{outcome.Checks.Count} checks passed; {outcome.Plan.CurrentVersion?.ToString() ?? "empty"} -> {outcome.Plan.TargetVersion}" +
                   (rehearsal is null ? "" : $"; {rehearsal.Describe()}");
        }, cancellationToken, onFailure: exception => new DeploymentRefusedException(exception.Message, exception));

    /// Before the fence, while the application runs: the data steps' expensive rows are computed and stored aside, so
    /// that inside the window only the rows changed since are computed. Killed or stopped, the next run resumes it.
    public Task<string> PrecomputeAsync(CancellationToken cancellationToken) =>
        StepAsync(DeploymentStep.Precompute, async () =>
        {
            if (nothingToDeploy)
                return "nothing to deploy";
            await OpenAsync(lockIt: true, cancellationToken);
            var admission = await AdmitAsync(DeploymentStep.Precompute, byHand: false, cancellationToken);
            if (admission.Decision == Admission.Verdict.AlreadyDone)
                return admission.Note;
            var plan = await PlanAsync(cancellationToken);
            var coverage = await DataStepPrecompute.RunAsync(site!.ConnectionString, plan, StepMode.Precompute, request.Settings.Migrations, request.Console.Progress, cancellationToken);
            foreach (var transform in coverage)
            {
                Log.Information("Precompute: {Coverage}", transform.Describe());
                prerequisiteChecks.Add(new CheckRecord($"precomputed: {transform.Transform}",
                    transform.Percent is { } percent ? $"{percent:0.00} %" : "not precomputed", true, transform.Describe(), Informational: true));
            }
            return coverage.All(transform => transform.Percent is null)
                ? "no data step of the plan can be precomputed"
                : string.Join("; ", coverage.Select(transform => $"{transform.Transform}: {(transform.Percent is { } percent ? $"{percent:0.00} % precomputed" : "not precomputed")}"));
        }, cancellationToken);

    public Task<string> RaiseFenceAsync(CancellationToken cancellationToken) =>
        FlowStepAsync(DeploymentStep.Fence, "MaintenanceOn", async () =>
        {
            if (State == DeploymentState.Idle)
            {
                await RequirePrecomputedAsync(cancellationToken);
                await StartJournalAsync(cancellationToken);
            }
            Enter(DeploymentState.Fencing, "MaintenanceOn", "stopping the application and raising the write fence");
            await Application.StopAsync(Facts, cancellationToken);
            var raised = await Fence.RaiseAsync(journal!.RunId, cancellationToken);
            journal.FenceRaisedAt ??= raised?.Record.RaisedAt ?? DateTimeOffset.UtcNow;
            journal.FenceLiftedAt = null;
            Enter(DeploymentState.Fenced, "MaintenanceOn", raised?.Describe() ?? "no fence roles set: the database is not fenced against writes");
            FailIfInjected("MaintenanceOn");
            return raised is null ? "no fence roles set: not fenced" : $"fenced {string.Join(", ", raised.Roles.Select(role => role.Name))}";
        }, cancellationToken);

    public Task<string> TakeSafeHarborAsync(CancellationToken cancellationToken) =>
        FlowStepAsync(DeploymentStep.Harbor, "Backup", async () =>
        {
            Enter(DeploymentState.Harboring, "Backup", request.BackupFile is null ? "taking the safe harbor" : $"checking the given safe harbor {request.BackupFile}");
            await Harbors.DropEarlierClonesAsync(journal!, cancellationToken);
            if (request.BackupFile is null && (await Harbors.ChooseCloneAsync(cancellationToken)).Possible)
            {
                try
                {
                    var clock = Stopwatch.StartNew();
                    var (clone, bytes) = await Harbors.TakeCloneAsync(journal!, Record, cancellationToken);
                    var cloned = $"{bytes / 1024.0 / 1024.0:N1} MiB in {clock.Elapsed.TotalSeconds:0.0} s";
                    Enter(DeploymentState.Harbored, "Backup",
                        $"cloned the database into {clone.Name} ({cloned}, {clone.RowCounts.Count} tables counted); DumpClone dumps it after Restart");
                    FailIfInjected("Backup");
                    return $"clone {clone.Name} ({cloned})";
                }
                // The clone was the default's choice, not the operator's: a longer window beats a deployment rolled back for a monitor's session.
                catch (CloneInUseException busy) when (request.Settings.Backup.Mode != BackupMode.CloneAndDump)
                {
                    Log.Warning("The safe harbor is dumped inside the fence instead of cloned: the database has sessions the fence does not end ({Sessions}). " +
                                "Add their roles to fence.roles, or end them before the window, for a clone next time", busy.Sessions);
                    Record("Backup", $"the clone could not start, sessions outside the fence: {busy.Sessions}; dumping inside the fence instead");
                }
            }
            // A clone left by an earlier attempt in clone+dump mode is no safe harbor now.
            await Harbors.DropCloneAsync(journal!, cancellationToken);
            var harbor = await Harbors.TakeOrAcceptAsync(journal!, request.BackupFile, cancellationToken);
            journal!.SafeHarbor = harbor.DumpPath;
            var size = $"{harbor.Manifest.SizeBytes / 1024.0 / 1024.0:N1} MiB";
            Enter(DeploymentState.Harbored, "Backup",
                $"{(request.BackupFile is null ? "took" : "accepted")} {harbor.DumpPath} ({size}, sha256 {harbor.Manifest.Sha256[..12]}…, {harbor.Manifest.RowCounts.Count} tables counted)");
            FailIfInjected("Backup");
            return $"{Path.GetFileName(harbor.DumpPath)} ({size})";
        }, cancellationToken);

    /// <param name="commit">Commit at the end of this phase: no later target of this process shares its transaction.</param>
    public Task<string> ApplyAsync(UpgradePhase phase, bool commit, CancellationToken cancellationToken) =>
        FlowStepAsync(phase == UpgradePhase.Migrate ? DeploymentStep.Migrate : DeploymentStep.PostProcess, phase.ToString(), async () =>
        {
            if (State == DeploymentState.Harbored)
            {
                await using (var connection = await site!.OpenAsync(cancellationToken))
                    journal!.SequencesBeforeUpgrade = (await SequenceSnapshot.TakeAsync(connection, cancellationToken)).Values;
                Enter(DeploymentState.Applying, phase.ToString(), $"applying the upgrade to {journal!.TargetVersion}");
            }
            StartCloneDumpBesideUpgrade();
            var run = await UpgradeAsync(cancellationToken);
            var committedBefore = run.Session?.Committed.Count ?? 0;
            IReadOnlyList<MigrationStep> applied;
            try
            {
                applied = await run.ApplyAsync(phase, commit, cancellationToken);
            }
            catch (StepFailedException failure)
            {
                throw new DeploymentException($"{failure.Headline} {failure.Undone} {await CommitTruthAsync(cancellationToken)} {failure.Remedy}", failure);
            }
            var committedNow = run.Session!.Committed.Skip(committedBefore).ToList();
            Record(phase.ToString(), applied.Count == 0
                ? "nothing left to apply"
                : $"applied {string.Join(", ", applied.Select(step => step.DisplayName))}" +
                  (committedNow.Count > 0 ? $"; committed {string.Join(", ", committedNow.Select(step => step.DisplayName))}" : "") +
                  (commit ? "" : "; the rest stays in the open transaction for the next target"));
            FailIfInjected(phase.ToString());
            return applied.Count == 0 ? "nothing left to apply" : $"{applied.Count} step(s){(commit ? ", committed" : ", not yet committed")}";
        }, cancellationToken);

    public Task<string> VerifyAndCommitAsync(CancellationToken cancellationToken) =>
        FlowStepAsync(DeploymentStep.Verify, "Verify", async () =>
        {
            var run = await UpgradeAsync(cancellationToken);
            await run.PlanAsync(cancellationToken);
            var session = run.Session!;
            var verifyDirectory = Path.Combine(request.Catalog().Find(run.Target)!.Directory, MigrationCatalog.VerifyFolder);
            var report = await new IntegrityVerifier(session.Connection, await session.TransactionForChecksAsync(cancellationToken))
                .VerifyAsync(verifyDirectory, HarborKeeper.RowCountsByName(journal!), cancellationToken);
            journal!.Checks.AddRange(report.Checks.Select(check => new CheckRecord(check.Name, check.Figure, check.Verdict != Verdict.Failed, check.Detail, check.Verdict == Verdict.Informational)));
            Record("Verify", report.Summary);
            Log.Debug("{Report}", report.ToMarkdown());
            FailIfInjected("Verify");
            report.ThrowIfFailed(await CommitTruthAsync(cancellationToken));
            // Left by Precompute for a plan or an identity that this one did not use: they go with the commit too.
            await Precomputation.DropAllAsync(session.Connection, session.Transaction, cancellationToken);
            await run.CommitAsync(cancellationToken);
            Enter(DeploymentState.Committed, "Verify", $"upgrade to {journal.TargetVersion} verified and committed");
            return $"{report.Checks.Count} checks passed; committed";
        }, cancellationToken);

    public Task<string> RestartAsync(CancellationToken cancellationToken) =>
        FlowStepAsync(DeploymentStep.Restart, "Restart", async () =>
        {
            // Written first: from the moment the fence comes down, the application may write, and a restore would lose it.
            journal!.FenceLiftedAt ??= DateTimeOffset.UtcNow;
            journal.NewApplicationStarted = true;
            Enter(DeploymentState.Restarting, "Restart", "lifting the fence and starting the new version of the application");
            try
            {
                var lifted = await Fence.LiftAsync(cancellationToken);
                Record("Restart", lifted);
                var checks = await Application.StartAsync(Facts, cancellationToken);
                journal.Checks.AddRange(checks);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                throw new PersonNeededException(
                    $"Restart failed: {exception.Message.TrimEnd('.')}. The upgrade to {journal.TargetVersion} is committed; the fence is " +
                    $"{(await Fence.IsUpAsync(cancellationToken) ? "still up" : "lifted, so the application may be writing")}. " +
                    $"Fix the application and run ./build.sh Deploy --version {journal.TargetVersion} --target-env {Environment} to run Restart again; " +
                    $"to go back instead, ./build.sh Rollback --target-env {Environment} --discard-writes-since-restart restores the safe harbor and loses what the application wrote since.",
                    exception);
            }
            var after = StateMachine.After(DeploymentState.Restarting, DeploymentStep.Restart, cloneToDump: journal.Clone is { Gone: false } && journal.SafeHarbor is null);
            Enter(after, "Restart", after == DeploymentState.Completed
                ? $"deployment of {journal.TargetVersion} complete"
                : $"the new version runs; DumpClone dumps the clone {journal.Clone!.Name} into the safe harbor next");
            return "the new version runs";
        }, cancellationToken);

    /// After the window: the clone that was the safe harbor becomes the verified dump, and is dropped unless backup.keepClone.
    public Task<string> DumpCloneAsync(CancellationToken cancellationToken) =>
        FlowStepAsync(DeploymentStep.DumpClone, "DumpClone", async () =>
        {
            var clone = journal!.Clone!;
            Enter(DeploymentState.Dumping, "DumpClone", $"dumping the clone {clone.Name} into the safe harbor");
            if (journal.SafeHarbor is null)
            {
                var harbor = await CloneDumpBesideUpgradeAsync() ?? await Harbors.DumpCloneAsync(journal, clone, cancellationToken);
                journal.SafeHarbor = harbor.DumpPath;
                Record("DumpClone", $"took {harbor.DumpPath} ({harbor.Manifest.SizeBytes / 1024.0 / 1024.0:N1} MiB, sha256 {harbor.Manifest.Sha256[..12]}…) " +
                                    $"from the clone {clone.Name}, with the rows counted when it was made");
            }
            var kept = request.Settings.Backup.KeepClone;
            if (!kept)
                await Harbors.DropCloneAsync(journal, cancellationToken);
            Enter(StateMachine.After(DeploymentState.Dumping, DeploymentStep.DumpClone), "DumpClone",
                $"deployment of {journal.TargetVersion} complete; the safe harbor is {journal.SafeHarbor}" +
                (kept ? $", and the clone {clone.Name} is kept (backup.keepClone) for a rollback by hand, until the next deployment's Backup drops it" : ""));
            return $"{Path.GetFileName(journal.SafeHarbor)}{(kept ? $"; clone {clone.Name} kept" : "; clone dropped")}";
        }, cancellationToken);

    /// <param name="byHand">Invoked by name; otherwise triggered by a failure or an interruption of this run.</param>
    public Task<string> RollbackAsync(bool byHand, CancellationToken cancellationToken) =>
        StepAsync(DeploymentStep.Rollback, async () =>
        {
            // The failed upgrade's own transaction goes first: whatever the rollback does, nothing of it commits.
            await DisposeUpgradeAsync();
            // Nor is the clone read any longer: a rollback may swap it in.
            await StopCloneDumpAsync();
            await OpenAsync(lockIt: true, cancellationToken);
            await deploymentLock!.EnsureHeldAsync(request.Settings.Migrations.DeploymentLockWait, cancellationToken);
            var state = State;
            if (byHand && journal is not null)
                ConfirmDatabaseName();
            var admission = await AdmitAsync(DeploymentStep.Rollback, byHand, cancellationToken);
            if (admission.Decision == Admission.Verdict.AlreadyDone)
                return admission.Note;
            var rollback = new DeploymentRollback(request, site!, journal!, Fence, Application, Harbors, Facts);
            var note = await rollback.RunAsync(state, admission.Mode, byHand, Enter, Record, cancellationToken);
            // The database is back, but the application stays fenced until a person has reverted its code.
            if (journal!.State == DeploymentState.AwaitingRevert)
                verdict.PersonNeeded();
            return note;
        }, cancellationToken, onFailure: exception => new PersonNeededException(
            $"Rollback could not finish: {exception.Message.TrimEnd('.')}. {WhatIsUp()} Fix the cause and run ./build.sh Rollback --target-env {Environment} again: " +
            "it picks up where this one stopped.", exception));

    public Task<string> LiftFenceByHandAsync(CancellationToken cancellationToken) =>
        StepAsync(DeploymentStep.LiftFence, async () =>
        {
            await OpenAsync(lockIt: true, cancellationToken);
            var state = State;
            await AdmitAsync(DeploymentStep.LiftFence, byHand: true, cancellationToken);
            if (state == DeploymentState.Applying)
                await DeploymentRollback.UndoSequencesAsync(site!, journal!, cancellationToken);
            var lifted = await Fence.LiftAsync(cancellationToken);
            var after = StateMachine.After(state, DeploymentStep.LiftFence);
            if (after == DeploymentState.Abandoned)
            {
                Harbors.RemoveStalePartials();
                await DeploymentRollback.DropPrecomputationsAsync(site!, cancellationToken);
                await Harbors.DropCloneAsync(journal!, cancellationToken);
            }
            if (journal is not null && after != state)
            {
                journal.FenceLiftedAt ??= DateTimeOffset.UtcNow;
                Enter(after, "MaintenanceOff", after == DeploymentState.Abandoned
                    ? $"{lifted}; deployment {journal.RunId} abandoned: nothing of it was committed, the database is as it was before it"
                    : lifted);
            }
            return after == DeploymentState.Abandoned
                ? $"{lifted}; the deployment is abandoned, the database is as before it: start the application at {journal!.FromVersion} again (the stop hook stopped it)"
                : lifted;
        }, cancellationToken);

    // ---------------------------------------------------------------- state

    DeploymentState State => journal is { } current && StateMachine.IsActive(current.State) ? current.State : DeploymentState.Idle;

    string RunId => journal is { } current && StateMachine.IsActive(current.State) ? current.RunId : newRunId ??= NewRunId();

    /// Short, because it appears in file and database names beside the deployment's time.
    static string NewRunId() => Guid.NewGuid().ToString("N")[..8];

    DeploymentFacts Facts => new(Environment, journal?.RunId ?? RunId, journal?.FromVersion ?? plannedFrom?.ToString(), journal?.TargetVersion ?? request.TargetVersion?.ToString(), site?.Identity.Database);

    FenceControl Fence => new(request, site!);

    ApplicationControl Application => application ??= new ApplicationControl(request);
    ApplicationControl? application;

    HarborKeeper Harbors => new(request, site!);

    void Enter(DeploymentState state, string target, string message)
    {
        verdict.Changed();
        touched = true;
        journal!.Enter(state, target, message);
        Log.Information("{Target}: {Message}", target, message);
    }

    void Record(string target, string message)
    {
        touched = true;
        journal!.Record(target, message);
    }

    async Task OpenAsync(bool lockIt, CancellationToken cancellationToken)
    {
        if (request.InjectFailure is not null && request.Settings.Production)
            throw new DeploymentRefusedException(
                $"--inject-failure is refused for '{Environment}', a production environment: it would make a real production deployment fail on purpose. Leave it out; nothing was changed.");
        site ??= await DeploymentSite.OpenAsync(await request.ConnectionString(cancellationToken), cancellationToken);
        var path = request.JournalPath ?? DeploymentJournal.DefaultPath(request.DeploymentsDirectory, site.Identity);
        if (lockIt && deploymentLock is null)
        {
            var lockName = DeploymentJournal.Load(path) is { } last && StateMachine.IsActive(last.State) ? last.RunId : RunId;
            deploymentLock = await DeploymentLock.AcquireAsync(site.ConnectionString, lockName, request.Settings.Migrations.DeploymentLockWait, cancellationToken);
            journal = null;
        }
        if (journal is null && DeploymentJournal.Load(path) is { } loaded)
        {
            if (loaded.Database != site.Identity)
                throw new DeploymentRefusedException(
                    $"The journal {path} belongs to {loaded.Database}, not to {site.Identity}, which this run is connected to. " +
                    "Point --journal at this database's journal, or leave it out; nothing was changed.");
            journal = loaded;
        }
    }

    async Task StartJournalAsync(CancellationToken cancellationToken)
    {
        var target = AskedVersion;
        if (plannedFrom is null)
        {
            var plan = await PlanAsync(cancellationToken);
            if (plan.IsEmpty)
                throw new DeploymentRefusedException($"Database {site!.Identity.Database} is at {target} already: there is nothing to deploy; nothing was changed.");
            plannedFrom = plan.CurrentVersion;
        }
        var path = request.JournalPath ?? DeploymentJournal.DefaultPath(request.DeploymentsDirectory, site!.Identity);
        journal = DeploymentJournal.Start(path, RunId, Environment, site!.Identity, plannedFrom?.ToString(), target.ToString());
        journal.Checks.AddRange(prerequisiteChecks);
        journal.Findings.AddRange(prerequisiteFindings);
        touched = true;
        Record("Prerequisites", $"deployment {journal.RunId} of {journal.FromVersion ?? "an empty database"} -> {journal.TargetVersion} begins" +
                                (prerequisiteChecks.Count > 0 ? $"; {prerequisiteChecks.Count} prerequisites passed" : ""));
    }

    /// The last moment before the window: an environment with a minimum refuses to spend the window computing what could
    /// have been computed while the application ran (Precompute skipped, or the application changed many rows since).
    async Task RequirePrecomputedAsync(CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(cancellationToken);
        // An empty database has no rows for a data step to compute, wherever its versions leave the schema it would read.
        if (request.Settings.Precompute.MinimumCoverage is not { } minimum || plan.CurrentVersion is null)
            return;
        var coverage = await DataStepPrecompute.RunAsync(
            site!.ConnectionString, plan, StepMode.Survey, request.Settings.Migrations, request.Console.Progress, cancellationToken);
        if (coverage.FirstOrDefault(transform => transform.Precomputable && (transform.Percent ?? 0) < minimum) is not { } lacking)
            return;
        // Precompute cannot mend a transform it cannot run: the refusal says what stops it instead.
        throw new DeploymentRefusedException(lacking.Problem is { } problem
            ? $"{lacking.Transform} ({lacking.Step}) cannot be precomputed now: {problem}. All its rows would be computed inside the window, and '{Environment}' " +
              $"requires {minimum} % precomputed (precompute.minimumCoverage). Remove the cause (deploy the earlier version on its own first, or mend the step), " +
              "or lower precompute.minimumCoverage if the window can hold the work; nothing was fenced."
            : $"{lacking.Transform} ({lacking.Step}) is {lacking.Percent:0.00} % precomputed, below the {minimum} % that '{Environment}' requires " +
              $"(precompute.minimumCoverage): {lacking.ToCompute:N0} rows would be computed inside the window, est. {lacking.ComputeSeconds:0} s. " +
              $"Run ./build.sh Precompute --version {AskedVersion} --target-env {Environment} (Deploy runs it unless skipped), then deploy; nothing was fenced.");
    }

    /// The plan from the database's history now, before any deployment of it has begun.
    async Task<UpgradePlan> PlanAsync(CancellationToken cancellationToken)
    {
        await using var connection = await site!.OpenAsync(cancellationToken);
        return UpgradePlanner.Plan(request.Catalog(), await HistoryTable.ReadAsync(connection, null, cancellationToken), AskedVersion, RunId);
    }

    AppVersion AskedVersion => request.TargetVersion ?? throw new DeploymentRefusedException(
        "No --version given: name the application version to deploy, e.g. --version 0.4; nothing was changed.");

    /// A step of Deploy: nothing to do when Prerequisites found the database at the version already, done when the
    /// deployment is past it, refused when an earlier step is missing, else run.
    Task<string> FlowStepAsync(DeploymentStep step, string target, Func<Task<string>> body, CancellationToken cancellationToken) =>
        StepAsync(step, async () =>
        {
            if (nothingToDeploy)
                return "nothing to deploy";
            await OpenAsync(lockIt: true, cancellationToken);
            var admission = await AdmitAsync(step, byHand: false, cancellationToken);
            if (admission.Decision == Admission.Verdict.AlreadyDone)
            {
                if (step == DeploymentStep.Fence)
                    await Fence.EnsureStillUpAsync(journal!, Enter, cancellationToken);
                return admission.Note;
            }
            rehearsal?.AnnounceStart(target);
            return await body();
        }, cancellationToken);

    async Task<string> StepAsync(DeploymentStep step, Func<Task<string>> body, CancellationToken cancellationToken,
        Func<Exception, DeploymentException>? onFailure = null)
    {
        try
        {
            return await body();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reported = exception is DeploymentRefusedException || onFailure is null ? exception : onFailure(exception);
            verdict.Record(reported);
            if (journal is not null && touched)
            {
                journal.LastFailure = reported.Message;
                Record(step.ToString(), $"failed: {reported.Message}");
            }
            if (ReferenceEquals(reported, exception))
                throw;
            throw reported;
        }
        catch (OperationCanceledException)
        {
            verdict.Record(new DeploymentException("interrupted"));
            if (journal is not null && touched)
                Record(step.ToString(), "interrupted");
            throw;
        }
    }

    void Admit(DeploymentStep step) => Check(StateMachine.Admit(State, step, new Situation(OtherVersion: IsOtherVersion)));

    async Task<Admission> AdmitAsync(DeploymentStep step, bool byHand, CancellationToken cancellationToken)
    {
        var needsCommits = State == DeploymentState.Applying && step is DeploymentStep.Rollback or DeploymentStep.LiftFence;
        var situation = new Situation(
            AnythingCommitted: needsCommits && (await CommittedStepsAsync(cancellationToken)).Count > 0,
            OtherVersion: IsOtherVersion,
            ByHand: byHand,
            DiscardWrites: request.DiscardWritesSinceRestart,
            LastCompleted: journal?.State == DeploymentState.Completed,
            CloneKept: step == DeploymentStep.Rollback && await Harbors.CloneKeptAsync(journal, cancellationToken));
        return Check(StateMachine.Admit(State, step, situation));
    }

    bool IsOtherVersion => request.TargetVersion is { } asked && journal is { } current && StateMachine.IsActive(current.State) && current.TargetVersion != asked.ToString();

    Admission Check(Admission admission)
    {
        if (admission.Decision != Admission.Verdict.Refused)
            return admission;
        var what = journal is { } current && (StateMachine.IsActive(current.State) || current.State == DeploymentState.Completed)
            ? $"Deployment {current.RunId} of database '{current.Database.Database}' ({current.FromVersion ?? "empty"} -> {current.TargetVersion}) is {StateMachine.Describe(current.State)}"
            : $"Database '{site?.Identity.Database}' has no unfinished deployment";
        var next = journal is { } last && StateMachine.IsActive(last.State)
            ? $" Next: {StateMachine.NextCommand(last.State, last.FromVersion, last.TargetVersion, Environment)}."
            : "";
        throw new DeploymentRefusedException($"{what}, so this step is refused: {admission.Note}.{next} Nothing was changed.");
    }

    /// This deployment's steps the database has committed: its history is the truth, whichever process committed them.
    async Task<IReadOnlyList<HistoryRow>> CommittedStepsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await site!.OpenAsync(cancellationToken, retryWhileStarting: true);
        return [.. (await HistoryTable.ReadAsync(connection, null, cancellationToken)).Where(row => row.Success && row.RunId == journal!.RunId)];
    }

    /// What a failure leaves committed, in words an operator can act on.
    async Task<string> CommitTruthAsync(CancellationToken cancellationToken)
    {
        var committed = await CommittedStepsAsync(cancellationToken);
        var plan = await upgrade!.PlanAsync(cancellationToken);
        var notCommitted = plan.Steps.Select(planned => planned.Step.DisplayName)
            .Except(committed.Select(row => $"v{row.Version}/{row.Name}")).ToList();
        return committed.Count == 0
            ? "Nothing of this deployment is committed: the database is as it was before it."
            : $"Committed: {string.Join(", ", committed.Select(row => $"v{row.Version}/{row.Name}"))} (commit points); " +
              $"not committed: {(notCommitted.Count == 0 ? "none" : string.Join(", ", notCommitted))}; Rollback restores the safe harbor.";
    }

    async Task<UpgradeRun> UpgradeAsync(CancellationToken cancellationToken)
    {
        if (upgrade is not null)
            return upgrade;
        var target = journal?.TargetVersion is { } recorded ? AppVersion.Parse(recorded) : request.TargetVersion!.Value;
        upgrade = new UpgradeRun(site!.ConnectionString, request.Catalog(), target, request.Settings.Migrations, journal!.RunId, deploymentLock, request.Console.Progress);
        await upgrade.PlanAsync(cancellationToken);
        return upgrade;
    }

    void StartCloneDumpBesideUpgrade()
    {
        if (cloneDump is not null || !request.Settings.Backup.DumpCloneDuringUpgrade || journal is not { SafeHarbor: null, Clone: { Gone: false } clone })
            return;
        var stop = new CancellationTokenSource();
        Log.Information("Dumping the clone {Clone} beside the upgrade (backup.dumpCloneDuringUpgrade)", clone.Name);
        cloneDump = (Harbors.DumpCloneAsync(journal, clone, stop.Token), stop);
    }

    /// The dump started beside the upgrade, or null when none was, or it failed (DumpClone then takes it again).
    async Task<SafeHarbor?> CloneDumpBesideUpgradeAsync()
    {
        if (cloneDump is not { } started)
            return null;
        cloneDump = null;
        try
        {
            return await started.Dump;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.Warning("The dump of the clone taken beside the upgrade failed ({Reason}); taking it again", exception.Message);
            return null;
        }
        finally
        {
            started.Stop.Dispose();
        }
    }

    async Task StopCloneDumpAsync()
    {
        if (cloneDump is not { } started)
            return;
        cloneDump = null;
        await started.Stop.CancelAsync();
        try
        {
            await started.Dump;
        }
        catch (Exception exception)
        {
            Log.Debug("The dump of the clone beside the upgrade stopped: {Reason}", exception.Message);
        }
        started.Stop.Dispose();
    }

    async Task DisposeUpgradeAsync()
    {
        if (upgrade is null)
            return;
        await upgrade.DisposeAsync();
        upgrade = null;
    }

    /// Lets the demo and the tests show a failure without a broken script; production refuses it up front.
    void FailIfInjected(string target)
    {
        if (request.InjectFailure == target)
            throw new DeploymentException($"Failure injected into {target} with --inject-failure {target}, after its work was done.");
    }

    /// By hand, the operator names the database to confirm that it is the one to replace or undo.
    void ConfirmDatabaseName()
    {
        var database = site!.Identity.Database;
        var typed = request.ConfirmDatabase
                    ?? (request.Console.CanAsk
                        ? request.Console.Ask($"This rolls back deployment {journal!.RunId} of database '{database}'. Type the database name to confirm:")
                        : throw new DeploymentRefusedException(
                            $"Rollback undoes deployment {journal!.RunId} of database '{database}', and there is no terminal to confirm it: pass --confirm-database {database}. Nothing was changed."));
        if (typed.Trim() != database)
            throw new DeploymentRefusedException($"The name typed ('{typed.Trim()}') is not the database's ('{database}'); nothing was changed.");
    }

    /// For a message after a failure: what is up now and what the deployment's state is.
    string WhatIsUp() =>
        journal is null
            ? ""
            : $"Deployment {journal.RunId} is {StateMachine.Describe(journal.State)}; the write fence " +
              $"{(journal.FenceRaisedAt is not null && journal.FenceLiftedAt is null ? "is up (the application cannot write)" : "is not up")}" +
              $"{(journal.SafeHarbor is { } harbor ? $"; its safe harbor is {harbor}" : journal.Clone is { Gone: false } clone ? $"; its safe harbor is the clone {clone.Name}" : "")}.";

    public async Task<DeploymentStatus> StatusAsync(CancellationToken cancellationToken)
    {
        await OpenAsync(lockIt: false, cancellationToken);
        return await DeploymentStatus.ReadAsync(request, site!, journal, cancellationToken);
    }

    /// Writes the report of this run into the deployment's run folder, beside its journal.
    public (string Markdown, string Json)? WriteReport(IReadOnlyList<TargetOutcome> targets, string outcome)
    {
        if (Journal is not { } current)
            return null;
        current.Targets.AddRange(targets);
        current.Save();
        return Reporting.DeploymentReport.Write(current, targets, outcome);
    }

    public async ValueTask DisposeAsync()
    {
        await StopCloneDumpAsync();
        await DisposeUpgradeAsync();
        if (deploymentLock is not null)
            await deploymentLock.DisposeAsync();
    }
}
