using Npgsql;
using PgDeploy.Application;
using PgDeploy.Migrations;
using PgDeploy.Migrations.History;
using PgDeploy.Migrations.PostProcessing;
using PgDeploy.Postgres;
using PgDeploy.Safety;
using Serilog;

namespace PgDeploy.Deployments;

/// Undoes exactly what a deployment did. Nothing committed: the upgrade's transaction is gone already, so the
/// sequences go back, the fence comes down and the previous application starts again, without a restore.
/// Something committed: the safe harbor is restored and swapped in first, and this run's failures are written
/// back into the restored history. Each part can be redone: a rollback killed half-way is finished by the next.
sealed class DeploymentRollback(
    DeploymentRequest request, DeploymentSite site, DeploymentJournal journal, FenceControl fence, ApplicationControl application,
    HarborKeeper harbors, DeploymentFacts facts)
{
    public async Task<string> RunAsync(
        DeploymentState state, RollbackMode admitted, bool byHand, Action<DeploymentState, string, string> enter, Action<string, string> record,
        CancellationToken cancellationToken)
    {
        var mode = state == DeploymentState.RollingBack ? journal.Rollback ?? admitted : admitted;
        if (state != DeploymentState.RollingBack)
        {
            journal.FailedSteps.AddRange(await FailedStepsAsync(cancellationToken));
            journal.Rollback = mode;
            enter(DeploymentState.RollingBack, "Rollback", mode switch
            {
                RollbackMode.Undo => "nothing of the deployment is committed: undoing it without a restore",
                RollbackMode.Swap => $"part or all of the upgrade is committed: swapping in the safe harbor's clone {journal.Clone!.Name}",
                _ => "part or all of the upgrade is committed: restoring the safe harbor",
            });
        }
        else
        {
            record("Rollback", "finishing the rollback an earlier run began");
        }

        string done;
        if (mode is RollbackMode.Restore or RollbackMode.Swap)
        {
            if (journal.FenceLiftedAt is not null)
            {
                // The new version has been running: stop it and fence again before its database is replaced.
                Log.Warning("Discarding what the application wrote since {Lifted:u}, as --discard-writes-since-restart asks", journal.FenceLiftedAt);
                await application.StopAsync(facts, cancellationToken);
                await fence.RaiseAsync(journal.RunId, cancellationToken);
            }
            done = mode == RollbackMode.Swap ? await SwapAsync(cancellationToken) : await RestoreAsync(cancellationToken);
            await WriteBackFailuresAsync(cancellationToken);
        }
        else
        {
            await UndoSequencesAsync(site, journal, cancellationToken);
            done = $"nothing was committed; the database is as it was before deployment {journal.RunId}, without a restore";
        }

        await DropPrecomputationsAsync(site, cancellationToken);
        var previousBack = !journal.NewApplicationStarted || application.CanRevert;
        if (previousBack)
        {
            var lifted = await fence.LiftAsync(cancellationToken);
            journal.FenceLiftedAt ??= DateTimeOffset.UtcNow;
            record("Rollback", lifted);
            var reverted = await application.RevertAsync(facts, cancellationToken);
            done += reverted
                ? $"; the revert hook started the application at {journal.FromVersion} again"
                : $"; no revert hook is set: start the application at {journal.FromVersion} again (the stop hook stopped it)";
        }
        else
        {
            Log.Error("""
                ************************************************************************************
                The database is back at {Version}. REVERT THE APPLICATION CODE TO {Version} NOW:
                the new code does not work with the restored schema. The fence stays up until
                ./build.sh MaintenanceOff --target-env {Environment} after the old code is back.
                ************************************************************************************
                """, journal.FromVersion, journal.FromVersion, request.EnvironmentName);
            done += $"; revert the application's code to {journal.FromVersion}, then run ./build.sh MaintenanceOff";
        }
        harbors.RemoveStalePartials();
        await harbors.DropCloneAsync(journal, cancellationToken);
        enter(StateMachine.After(DeploymentState.RollingBack, DeploymentStep.Rollback, previousBack), "Rollback", done);
        return done;
    }

    /// This run's failures as the history recorded them, kept in the journal before the history is replaced.
    async Task<IReadOnlyList<HistoryEntry>> FailedStepsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await site.OpenAsync(cancellationToken, retryWhileStarting: true);
        return [.. (await HistoryTable.ReadAsync(connection, null, cancellationToken))
            .Where(row => !row.Success && row.RunId == journal.RunId)
            .Select(HistoryEntry.From)];
    }

    async Task<string> RestoreAsync(CancellationToken cancellationToken)
    {
        var database = site.Identity.Database;
        var restoring = RestoreNames.Restoring(database, journal.RunId);
        var failed = RestoreNames.Failed(database, journal.RunId);
        var server = site.MaintenanceConnectionString;
        if (await DatabaseAdmin.ExistsAsync(server, failed, cancellationToken))
            return $"the safe harbor was restored and swapped in by an earlier attempt; the database as it was before the rollback is kept as {failed}";
        if (await DatabaseAdmin.ExistsAsync(server, restoring, cancellationToken))
        {
            Log.Warning("Dropping {Restoring}, left half-made by an interrupted rollback, to restore it again", restoring);
            await DatabaseAdmin.DropDatabaseAsync(server, restoring, cancellationToken);
        }

        var harbor = HarborKeeper.Recorded(journal);
        await harbors.VerifyBelongsAsync(harbor, journal, cancellationToken);
        var result = await new SafeHarborRestore(request.Settings.Backup, harbors.Options)
            .RestoreAsync(harbor, site.ConnectionString, journal.RunId, cancellationToken: cancellationToken);
        return $"restored {result.Database} from {Path.GetFileName(result.DumpPath)} in {result.TotalDuration.TotalSeconds:0.0} s; " +
               $"the database as it was before the rollback is kept as {result.FailedDatabase} (drop it when done: {result.DropFailedDatabaseSql})";
    }

    /// The clone made inside the fence takes the database's name; the upgraded database is kept aside, as a restore keeps it.
    async Task<string> SwapAsync(CancellationToken cancellationToken)
    {
        var clone = journal.Clone!;
        var failed = RestoreNames.Failed(site.Identity.Database, journal.RunId);
        if (await DatabaseAdmin.ExistsAsync(site.MaintenanceConnectionString, failed, cancellationToken))
            return $"the clone {clone.Name} was swapped in by an earlier attempt; the database as it was before the rollback is kept as {failed}";
        var (kept, duration) = await new SafeHarborRestore(request.Settings.Backup, harbors.Options)
            .SwapInCloneAsync(site.ConnectionString, clone.Name, journal.RunId, cancellationToken);
        journal.Clone = clone with { Gone = true };
        return $"swapped the safe harbor's clone {clone.Name} in for the database in {duration.TotalSeconds:0.00} s, without a restore; " +
               $"the database as it was before the rollback is kept as {kept} (drop it when done: DROP DATABASE {DatabaseAdmin.QuoteIdentifier(kept)};)";
    }

    /// The restored history knows nothing of this run; its failures are what the morning after needs to read.
    async Task WriteBackFailuresAsync(CancellationToken cancellationToken)
    {
        if (journal.FailedSteps.Count == 0)
            return;
        await using var connection = await site.OpenWritableAsync(cancellationToken);
        await HistoryTable.EnsureCreatedAsync(connection, null, cancellationToken);
        var present = (await HistoryTable.ReadAsync(connection, null, cancellationToken)).Select(row => Key(HistoryEntry.From(row))).ToHashSet();
        foreach (var failure in journal.FailedSteps.Where(failure => !present.Contains(Key(failure))))
            await HistoryTable.AppendAsync(connection, null, failure, cancellationToken);
    }

    static (string, string, string, bool, string?) Key(HistoryEntry entry) => (entry.RunId, entry.Version, entry.Name, entry.Success, entry.ErrorMessage);

    /// The deployment ends here: what Precompute stored (digests of the rows it read) goes with it, from the restored
    /// database as from the one the upgrade left untouched.
    public static async Task DropPrecomputationsAsync(DeploymentSite site, CancellationToken cancellationToken)
    {
        await using var connection = await site.OpenWritableAsync(cancellationToken);
        if (await Precomputation.DropAllAsync(connection, null, cancellationToken) is > 0 and var dropped)
            Log.Information("Dropped {Count} precomputed result table(s) of the deployment", dropped);
    }

    /// Puts the sequences back where they were when the upgrade began (see SequenceSnapshot).
    public static async Task UndoSequencesAsync(DeploymentSite site, DeploymentJournal journal, CancellationToken cancellationToken)
    {
        if (journal.SequencesBeforeUpgrade is not { } values)
            return;
        await using var connection = await site.OpenWritableAsync(cancellationToken);
        await SequenceSnapshot.From(values).RestoreAsync(connection, cancellationToken);
    }
}
