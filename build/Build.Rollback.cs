using Npgsql;
using PgDeploy;
using PgDeploy.Safety;
using Serilog;
using Spectre.Console;

/// The fail-safe of the guide: never patch by hand, restore the safe harbor, then revert the code.
partial class Build
{
    bool RollbackByHand => InvokedTargets.Contains(nameof(Rollback));

    async Task RollbackAsync(CancellationToken cancellationToken)
    {
        // The failed upgrade's own transaction goes first: whatever the restore does, nothing of it commits.
        if (upgrade is not null)
            await upgrade.DisposeAsync();
        upgrade = null;

        var harbor = RecordedSafeHarbor;
        var connection = await ConnectionStringAsync(cancellationToken);
        if (RollbackByHand)
            await PrepareRollbackByHandAsync(connection, cancellationToken);

        var result = await new SafeHarborRestore(BackupSettings, SafeHarborOptions).RestoreAsync(harbor, connection, RunId, cancellationToken: cancellationToken);
        DeploymentJournal.Record(nameof(Rollback),
            $"restored {result.Database} from {result.DumpPath} in {result.TotalDuration.TotalSeconds:0.0} s; the failed database is kept as {result.FailedDatabase ?? "(dropped)"}");
        ReportSummary($"restored from {Path.GetFileName(result.DumpPath)}");

        await RevertApplicationAsync(cancellationToken);
    }

    /// By hand, the operator names the database to confirm, and a restore after Restart must be asked
    /// for knowingly: the application has been writing since the fence was lifted.
    async Task PrepareRollbackByHandAsync(string connectionString, CancellationToken cancellationToken)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        var typed = ConfirmDatabase
            ?? (IsInteractive
                ? AnsiConsole.Ask<string>($"[red]This replaces database [bold]{Markup.Escape(database)}[/] with its safe harbor. Type the database name to confirm:[/]")
                : throw Refused(
                    $"Rollback replaces database '{database}' with its safe harbor, and there is no terminal to confirm it: pass --confirm-database {database}. Nothing was changed."));
        if (typed.Trim() != database)
            throw Refused($"The name typed ('{typed.Trim()}') is not the database's ('{database}'); nothing was changed.");

        if (DeploymentJournal.FenceLiftedAt is { } lifted)
        {
            if (!DiscardWritesSinceRestart)
                throw Refused(
                    $"The fence was lifted at {lifted:yyyy-MM-dd HH:mm:ss} UTC and the application has been writing to '{database}' since: a restore discards those writes. " +
                    "Export what must be kept, then run again with --discard-writes-since-restart; nothing was changed.");
            Log.Warning("Discarding what the application wrote since {Lifted:HH:mm:ss} UTC, as asked", lifted);
            await RaiseFenceAsync(cancellationToken);
        }
    }

    /// After a restore the previous version's code must run again: the new code expects the new schema.
    async Task RevertApplicationAsync(CancellationToken cancellationToken)
    {
        if (TargetEnvironment.Settings.Hooks.Revert is { } revert)
        {
            // As in Restart: the previous version can only start once its role may log in again. The stop hook
            // ran when the fence went up, so no application is running to write in between.
            var lifted = await LiftFenceAsync(cancellationToken);
            await RunHookAsync("revert", revert, cancellationToken);
            Log.Warning("The database is back at {Version} and the revert hook started the previous application version; fence: {Lifted}",
                DeploymentJournal.FromVersion, lifted);
            return;
        }
        var fence = TargetEnvironment.Settings.Fence.Roles.Count > 0
            ? $"The fence stays up until you run ./build.sh MaintenanceOff --target-env {TargetEnv} after the old code is back."
            : "Start the previous version of the application after reverting.";
        Log.Error("""
            ************************************************************************************
            The database is back at {Version}. REVERT THE APPLICATION CODE TO THE PREVIOUS VERSION
            NOW: the new code does not work with the restored schema.
            {Fence}
            ************************************************************************************
            """, DeploymentJournal.FromVersion ?? "its previous version", fence);
    }
}
