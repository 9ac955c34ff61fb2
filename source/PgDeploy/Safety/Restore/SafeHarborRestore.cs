using System.Diagnostics;
using Dapper;
using Npgsql;
using PgDeploy.Environments;
using PgDeploy.Postgres;
using PgDeploy.Progress;
using Serilog;

namespace PgDeploy.Safety;

/// <summary>
/// Brings a database back to exactly the state in its safe harbor. `pg_restore --clean` is not enough: it drops only what the dump
/// knows, so everything a failed upgrade added survives it, and a failure half-way leaves a half-restored database. Instead the dump
/// is restored into a new database, checked against the manifest's row counts, given the original's database-level properties,
/// and swapped in by name; the original is kept aside for forensics. Until the swap, the original is never touched.
/// </summary>
public sealed class SafeHarborRestore(BackupSettings settings, SafeHarborOptions? options = null)
{
    const string RefusedAdvice = "Nothing was changed: the database is as it was. Restore an older safe harbor (one whose manifest verifies), or your regular backups.";

    readonly SafeHarborOptions options = options ?? new SafeHarborOptions();

    /// <summary>
    /// For the Prerequisites target: proves the connection's role may restore its database, by its privileges, by the roles the dump
    /// would make pg_restore act as, and by creating and dropping an empty database exactly as a restore would. Fails with everything
    /// that is missing in one paragraph.
    /// </summary>
    /// <returns>What was proven, for the prerequisites' list.</returns>
    public static async Task<string> CheckPrerequisitesAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var database = DatabaseOf(connectionString);
        var maintenanceConnectionString = DatabaseAdmin.WithDatabase(connectionString, MaintenanceDatabase(database));
        await using var maintenance = await SafetyConnection.OpenAsync(maintenanceConnectionString, null, cancellationToken);
        return await RestoreRights.ProbeAsync(maintenance, maintenanceConnectionString, connectionString, database, cancellationToken);
    }

    /// <summary>Replaces the connection's database with the safe harbor's contents.</summary>
    /// <param name="runId">Names the databases the restore makes: &lt;db&gt;__restore_&lt;runId&gt; and &lt;db&gt;__failed_&lt;runId&gt;.</param>
    /// <param name="dropFailedDatabase">Drop the swapped-out original instead of keeping it for forensics.</param>
    public async Task<RestoreResult> RestoreAsync(
        SafeHarbor harbor, string connectionString, string runId, bool dropFailedDatabase = false, CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var database = DatabaseOf(connectionString);
        var manifest = harbor.Manifest;
        if (manifest.Database != database)
        {
            throw new DeploymentException(
                $"The safe harbor {harbor.DumpPath} is of database '{manifest.Database}', not '{database}', so it cannot restore it. "
                + "Give the safe harbor of this database; nothing was changed.");
        }

        var maintenanceConnectionString = DatabaseAdmin.WithDatabase(connectionString, MaintenanceDatabase(database));
        await using var maintenance = await SafetyConnection.OpenAsync(maintenanceConnectionString, null, cancellationToken);
        await RestoreRights.CheckAsync(maintenance, connectionString, database, cancellationToken);
        var (serverVersionNum, _) = await SafetyConnection.ReadServerVersionAsync(maintenance, cancellationToken);
        var pgRestore = await SafeHarborBackup.FindPgRestoreAsync(manifest, serverVersionNum / 10000, options, cancellationToken);

        var step = Stopwatch.StartNew();
        await DumpVerifier.VerifyAsync(harbor, pgRestore, RefusedAdvice, options.Progress, cancellationToken);
        var verifyDuration = step.Elapsed;

        var restoring = RestoreNames.Restoring(database, runId);
        var failed = RestoreNames.Failed(database, runId);
        foreach (var name in new[] { restoring, failed })
        {
            if (await DatabaseAdmin.ExistsAsync(maintenanceConnectionString, name, cancellationToken))
            {
                throw new DeploymentException(
                    $"Database '{name}' already exists, left by an earlier restore of run {runId}. Drop it (DROP DATABASE {DatabaseAdmin.QuoteIdentifier(name)};) "
                    + "if it is not needed, or restore with a new run id; nothing was changed.");
            }
        }

        var properties = await DatabaseProperties.ReadAsync(maintenance, database, cancellationToken);
        Log.Information("Restoring database {Database} from {DumpPath} into the new database {Restoring}", database, harbor.DumpPath, restoring);
        await SafetyConnection.ExecuteAsync(maintenance, properties.CreateStatement(restoring), cancellationToken);

        var stage = "restoring the dump";
        TimeSpan restoreDuration, checkDuration, analyzeDuration, swapDuration;
        IReadOnlyList<TableRowCount> rowCounts;
        try
        {
            step.Restart();
            await LoadAsync(harbor, pgRestore, maintenance, connectionString, restoring, $"pgdeploy restore {runId}", cancellationToken);
            restoreDuration = step.Elapsed;

            await using (var restored = await SafetyConnection.OpenAsync(connectionString, restoring, cancellationToken))
            {
                stage = "checking the restored row counts";
                step.Restart();
                rowCounts = await CheckRowCountsAsync(restored, manifest, cancellationToken);
                checkDuration = step.Elapsed;
                // Statistics are not in a dump: without them the planner guesses until autovacuum gets to each table.
                stage = "analyzing the restored database";
                step.Restart();
                await SafetyConnection.ExecuteAsync(restored, "ANALYZE", cancellationToken);
                analyzeDuration = step.Elapsed;
            }

            stage = "carrying over the database's settings, grants, connection limit and comment";
            foreach (var statement in properties.CarryOverStatements(await DatabaseProperties.ReadAsync(maintenance, restoring, cancellationToken)))
            {
                await SafetyConnection.ExecuteAsync(maintenance, statement, cancellationToken);
            }

            stage = "swapping the restored database in";
            step.Restart();
            await DatabaseSwap.SwapAsync(maintenance, database, restoring, failed, options.SessionEndTimeout, cancellationToken);
            swapDuration = step.Elapsed;
        }
        catch (Exception exception)
        {
            var cleanup = await DropHalfRestoredAsync(maintenanceConnectionString, restoring);
            if (exception is OperationCanceledException)
            {
                throw;
            }

            throw new DeploymentException(
                $"Restoring database '{database}' from {harbor.DumpPath} failed while {stage}: {exception.Message.TrimEnd('.')}. "
                + $"The original database '{database}' was not changed; {cleanup}. Fix the cause and run Rollback again.", exception);
        }

        // This process's pooled sessions to the database were ended by the swap; new ones must reach the restored database.
        NpgsqlConnection.ClearAllPools();
        var (failedDatabase, failedSize, dropSql) = await DisposeOfFailedAsync(maintenance, maintenanceConnectionString, failed, dropFailedDatabase, cancellationToken);
        var result = new RestoreResult(database, harbor.DumpPath, restoring, failedDatabase, failedSize, dropSql,
            verifyDuration, restoreDuration, checkDuration, analyzeDuration, swapDuration, total.Elapsed, rowCounts);
        Log.Information(
            "Database {Database} restored from {DumpPath} in {Duration:0.0} s (pg_restore {Restore:0.0} s, check {Check:0.0} s, ANALYZE {Analyze:0.0} s, swap {Swap:0.0} s); "
            + "{Tables} tables with the manifest's row counts",
            database, harbor.DumpPath, total.Elapsed.TotalSeconds, restoreDuration.TotalSeconds, checkDuration.TotalSeconds,
            analyzeDuration.TotalSeconds, swapDuration.TotalSeconds, rowCounts.Count);
        return result;
    }

    /// <summary>
    /// Replaces the connection's database with its clone, made inside the fence (backup.mode clone+dump): the clone takes the
    /// original's owner, grants, settings, connection limit and comment (so it stays fenced, as a restored database would), and the
    /// names are swapped in one transaction, well under a second. The original is kept as &lt;db&gt;__failed_&lt;runId&gt;.
    /// </summary>
    /// <returns>The name the original is kept under, and how long the swap took.</returns>
    public async Task<(string FailedDatabase, TimeSpan Duration)> SwapInCloneAsync(
        string connectionString, string clone, string runId, CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var database = DatabaseOf(connectionString);
        var maintenanceConnectionString = DatabaseAdmin.WithDatabase(connectionString, MaintenanceDatabase(database));
        await using var maintenance = await SafetyConnection.OpenAsync(maintenanceConnectionString, null, cancellationToken);
        await RestoreRights.CheckAsync(maintenance, connectionString, database, cancellationToken);
        if (!await DatabaseAdmin.ExistsAsync(maintenanceConnectionString, clone, cancellationToken))
        {
            throw new DeploymentException(
                $"The clone '{clone}' that is the safe harbor of run {runId} no longer exists, so it cannot replace database '{database}'; nothing was changed. "
                + "Restore the database from the safe harbor's dump, if one was taken, or from your regular backups.");
        }

        var failed = RestoreNames.Failed(database, runId);
        var properties = await DatabaseProperties.ReadAsync(maintenance, database, cancellationToken);
        foreach (var statement in properties.CarryOverStatements(await DatabaseProperties.ReadAsync(maintenance, clone, cancellationToken)))
        {
            await SafetyConnection.ExecuteAsync(maintenance, statement, cancellationToken);
        }

        await DatabaseSwap.SwapAsync(maintenance, database, clone, failed, options.SessionEndTimeout, cancellationToken);
        // This process's pooled sessions to the database were ended by the swap; new ones must reach the swapped-in clone.
        NpgsqlConnection.ClearAllPools();
        Log.Information("Database {Database} replaced by its clone {Clone} in {Duration:0.00} s; the database as it was is kept as {Failed}",
            database, clone, total.Elapsed.TotalSeconds, failed);
        return (failed, total.Elapsed);
    }

    /// <summary>
    /// pg_restore of the safe harbor into the empty database <paramref name="target"/> on the server of <paramref name="connectionString"/>
    /// (<paramref name="maintenance"/> stands on it): what a rollback swaps in, and the scratch copy a rehearsal upgrades.
    /// </summary>
    internal async Task LoadAsync(
        SafeHarbor harbor, ClientTool pgRestore, NpgsqlConnection maintenance, string connectionString, string target, string applicationName,
        CancellationToken cancellationToken)
    {
        // The restored database's size against the original's when it was dumped: honest about data and index builds alike,
        // and an estimate only because the restored copy carries none of the original's bloat.
        using var report = options.Progress.Begin(new LongWork("Restore", WorkUnit.Bytes, harbor.Manifest.DatabaseSizeBytes, TotalIsEstimate: true));
        await MeasuredWork.WatchAsync(
            PgRestoreRunner.RestoreAsync(
                pgRestore, LibpqEnvironment.From(connectionString, applicationName, target), harbor.DumpPath, harbor.Manifest.Format,
                settings.Jobs, cancellationToken),
            report, () => DatabaseSizeAsync(maintenance, target));
        if (await DatabaseSizeAsync(maintenance, target) is { } restoredSize)
            report.Report(restoredSize);
        report.Complete();
    }

    /// <summary>The restored database's row counts, which must be the manifest's.</summary>
    internal static async Task<IReadOnlyList<TableRowCount>> CheckRowCountsAsync(NpgsqlConnection restored, BackupManifest manifest, CancellationToken cancellationToken)
    {
        var rowCounts = await RowCounter.CountAsync(restored, cancellationToken);
        var differences = RowCounter.Differences(manifest.RowCounts, rowCounts);
        if (differences.Count > 0)
        {
            throw new DeploymentException(
                $"the restored row counts differ from the safe harbor's manifest in {differences.Count} table(s): {string.Join("; ", differences.Take(10))}"
                + $"{(differences.Count > 10 ? "; …" : "")}.");
        }

        return rowCounts;
    }

    static async Task<(string? Name, long? SizeBytes, string? DropSql)> DisposeOfFailedAsync(
        NpgsqlConnection maintenance, string maintenanceConnectionString, string failed, bool drop, CancellationToken cancellationToken)
    {
        var dropSql = $"DROP DATABASE {DatabaseAdmin.QuoteIdentifier(failed)};";
        if (drop)
        {
            try
            {
                await DatabaseAdmin.DropDatabaseAsync(maintenanceConnectionString, failed, cancellationToken);
                Log.Information("Dropped the swapped-out database {Failed}", failed);
                return (null, null, null);
            }
            catch (NpgsqlException exception)
            {
                // The restore itself succeeded; a leftover database is the operator's to drop, not a reason to fail the rollback.
                Log.Warning("Could not drop the swapped-out database {Failed} ({Reason}); drop it later with {DropSql}", failed, exception.Message, dropSql);
            }
        }

        var size = await DatabaseAdmin.SizeAsync(maintenance, failed, cancellationToken);
        Log.Information("The database as it was before the restore is kept for forensics as {Failed} ({Size} MB); drop it when done with {DropSql}",
            failed, size / (1024 * 1024), dropSql);
        return (failed, size, dropSql);
    }

    /// Progress only: a size that cannot be read this time is left out, never a reason to stop the restore.
    static async Task<long?> DatabaseSizeAsync(NpgsqlConnection maintenance, string database)
    {
        try
        {
            return await DatabaseAdmin.SizeAsync(maintenance, database);
        }
        catch (NpgsqlException)
        {
            return null;
        }
    }

    static async Task<string> DropHalfRestoredAsync(string maintenanceConnectionString, string restoring) =>
        await ScratchDatabase.DropAsync(maintenanceConnectionString, restoring, "partly restored database")
        ?? $"the partly restored database '{restoring}' was dropped";

    static string DatabaseOf(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString).Database is { Length: > 0 } database
            ? database
            : throw new DeploymentException("The connection string names no database, so there is nothing to restore. Add it to the URL; nothing was changed.");

    // Renaming needs a session on another database; template1 only when the database to restore is postgres itself.
    static string MaintenanceDatabase(string database) => database == "postgres" ? "template1" : "postgres";
}
