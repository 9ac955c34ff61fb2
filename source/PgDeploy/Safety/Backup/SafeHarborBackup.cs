using System.Diagnostics;
using Npgsql;
using PgDeploy.Environments;
using PgDeploy.Postgres;
using PgDeploy.Progress;
using Serilog;

namespace PgDeploy.Safety;

/// <summary>
/// Takes the safe harbor: the verified dump a rollback restores. It runs inside the maintenance fence (the caller arranges that),
/// so the dump holds every write the application made before the upgrade.
/// </summary>
/// <param name="settings">The environment's backup settings; <see cref="BackupSettings.Directory"/> already resolved by the caller.</param>
public sealed class SafeHarborBackup(BackupSettings settings, SafeHarborOptions? options = null)
{
    const string AcceptAdvice = "Take a fresh backup by leaving out --backup-file; nothing was changed.";
    const string VerifyAdvice =
        "The database was not changed. Restore an older safe harbor from the backup directory (one whose manifest verifies), or your regular backups.";

    readonly SafeHarborOptions options = options ?? new SafeHarborOptions();

    string BackupDirectory => Path.GetFullPath(settings.Directory);

    /// <summary>Dumps the connection's database, verifies the dump, writes its manifest, makes both read-only (and readable by their owner only), and prunes old ones.</summary>
    /// <param name="environment">The environment's name, e.g. "prod"; part of the file name and the manifest.</param>
    /// <param name="appVersion">The application version the database is at, if known.</param>
    /// <param name="provenance">The database's identity and state, and the fence it is taken in: what proves later that it is the safe harbor of that state.</param>
    /// <param name="fromClone">Dump this clone of the connection's database (backup.mode clone+dump); the dump is named and recorded as the database's own.</param>
    public async Task<SafeHarbor> TakeAsync(
        string connectionString, string environment, string? appVersion, string runId, CancellationToken cancellationToken = default,
        HarborProvenance? provenance = null, string? fromClone = null)
    {
        var clock = Stopwatch.StartNew();
        var startedUtc = DateTime.UtcNow;
        var connection = LibpqEnvironment.From(connectionString, $"pgdeploy safe harbor {runId}");
        var source = fromClone is null ? connection : LibpqEnvironment.From(connectionString, $"pgdeploy safe harbor {runId}", fromClone);
        var sourceConnectionString = fromClone is null ? connectionString : DatabaseAdmin.WithDatabase(connectionString, fromClone);
        var (pgDump, pgRestore, serverVersionNum, serverVersion) = await FindClientToolsAsync(connectionString, cancellationToken);

        var format = settings.Format;
        BackupDirectoryAccess.Prepare(BackupDirectory);
        // The caller holds the database's deployment lock, so what is left of an earlier dump of it is from a run that was killed.
        StalePartials.Remove(BackupDirectory, environment, connection.Database);
        var fileName = SafeHarborName.For(environment, connection.Database, appVersion, startedUtc, runId, format);
        var dumpPath = Path.Combine(BackupDirectory, fileName);
        var manifestPath = BackupManifest.PathFor(dumpPath);
        if (Path.Exists(dumpPath) || Path.Exists(manifestPath))
        {
            throw new DeploymentException(
                $"The safe harbor {dumpPath} already exists, and a safe harbor is never overwritten. Run again with a new run id, "
                + "or move the existing one away if it is not needed; nothing was changed.");
        }

        // Written under a temporary name in the same directory and renamed only once verified, so a dump under a safe
        // harbor's name is always complete; the rename stays within one file system and is atomic.
        var partialDump = dumpPath + SafeHarborName.PartialSuffix;
        var partialManifest = manifestPath + SafeHarborName.PartialSuffix;
        try
        {
            ReadOnlyDump.CreateEmpty(partialDump, format);
            Log.Information("Taking the safe harbor of database {Database}{Clone} with {PgDump} ({Format} format) into {Path}",
                connection.Database, fromClone is null ? "" : $" from its clone {fromClone}", pgDump.Path, PgDumpRunner.FormatName(format), dumpPath);
            IReadOnlyList<TableRowCount> rowCounts;
            long databaseSize;
            // The last safe harbor of this database in the same format is the best guess of this one's size: a dump is compressed
            // and holds no index data, so the database's own size would overstate it several times.
            var estimate = List(environment, connection.Database).FirstOrDefault(harbor => harbor.Manifest.Format == format)?.Manifest.SizeBytes;
            using (var report = options.Progress.Begin(new LongWork("Safe harbor dump", WorkUnit.Bytes, estimate, TotalIsEstimate: true)))
            await using (var snapshot = await ExportedSnapshot.ExportAsync(sourceConnectionString, options.LockWaitTimeout, cancellationToken))
            {
                databaseSize = await DatabaseAdmin.SizeAsync(snapshot.Connection, cancellationToken: cancellationToken);
                rowCounts = await CountWhileDumpingAsync(snapshot, stop => MeasuredWork.WatchAsync(
                    PgDumpRunner.DumpAsync(pgDump, source, partialDump, format, settings.Jobs, snapshot.Id, options.LockWaitTimeout, stop),
                    report, () => Task.FromResult(PartialSize(partialDump, format))), cancellationToken);
                report.Report(DumpFingerprint.SizeOf(partialDump, format));
                report.Complete();
            }

            var fingerprint = await DumpFingerprint.ComputeAsync(partialDump, format, options.Progress, cancellationToken);
            await DumpVerifier.VerifyListingAsync(
                partialDump, format, rowCounts, pgRestore, "pg_dump wrote a dump that cannot be restored; nothing was changed. Run again.", cancellationToken);
            var finishedUtc = DateTime.UtcNow;
            var manifest = new BackupManifest
            {
                Environment = environment,
                Database = connection.Database,
                Server = $"{connection.Variables["PGHOST"]}:{connection.Variables["PGPORT"]}",
                ServerVersion = serverVersion,
                ServerVersionNum = serverVersionNum,
                PgDumpVersion = await ClientToolRunner.ReadVersionAsync(pgDump, cancellationToken),
                AppVersion = appVersion,
                RunId = runId,
                FileName = fileName,
                Format = format,
                SizeBytes = fingerprint.SizeBytes,
                DatabaseSizeBytes = databaseSize,
                Sha256 = fingerprint.Sha256,
                RowCounts = rowCounts,
                Provenance = provenance,
                StartedUtc = startedUtc,
                FinishedUtc = finishedUtc,
                Duration = finishedUtc - startedUtc,
            };
            await manifest.WriteAsync(partialManifest, cancellationToken);
            ReadOnlyDump.ProtectFile(partialManifest);
            ReadOnlyDump.Protect(partialDump, format);
            MoveWithoutOverwriting(partialDump, dumpPath, format);
            File.Move(partialManifest, manifestPath, overwrite: false);

            var harbor = new SafeHarbor(dumpPath, manifest);
            // The deployment reports the safe harbor in a line of its own; the figures stay in the log file.
            Log.Debug(
                "Safe harbor {Path} taken in {Duration:0.0} s: {Size} bytes, SHA-256 {Sha256}, {Tables} tables with {Rows} rows, by {PgDumpVersion}",
                dumpPath, clock.Elapsed.TotalSeconds, manifest.SizeBytes, manifest.Sha256, rowCounts.Count,
                rowCounts.Where(count => !count.Partitioned).Sum(count => count.Rows), manifest.PgDumpVersion);
            Prune(harbor);
            return harbor;
        }
        catch
        {
            DeletePartial(partialDump, partialManifest, format);
            throw;
        }
    }

    // Retention is housekeeping: an old dump that cannot be deleted is no reason to stop a deployment that has its safe harbor.
    void Prune(SafeHarbor justTaken)
    {
        try
        {
            SafeHarborRetention.Prune(justTaken, BackupDirectory, settings.Keep);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Log.Warning("Could not delete old safe harbors in {Directory} beyond backup.keep = {Keep}: {Reason}", BackupDirectory, settings.Keep, exception.Message);
        }
    }

    /// <summary>
    /// Accepts an existing dump given with --backup-file instead of taking one: only a safe harbor of this environment and
    /// database, no older than backup.maxAgeOfGivenBackup, whose checksum matches its manifest and which pg_restore can read.
    /// </summary>
    public async Task<SafeHarbor> AcceptGivenAsync(string dumpPath, string connectionString, string environment, CancellationToken cancellationToken = default)
    {
        var harbor = SafeHarbor.Load(dumpPath, AcceptAdvice);
        var manifest = harbor.Manifest;
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        if (manifest.Database != database || manifest.Environment != environment)
        {
            throw new DeploymentException(
                $"The given backup {harbor.DumpPath} is of database '{manifest.Database}' in environment '{manifest.Environment}', "
                + $"not of database '{database}' in environment '{environment}', so it cannot be this deployment's safe harbor. {AcceptAdvice}");
        }

        var age = DateTime.UtcNow - manifest.FinishedUtc;
        if (age > settings.MaxAgeOfGivenBackup)
        {
            throw new DeploymentException(
                $"The given backup {harbor.DumpPath} was taken at {manifest.FinishedUtc:yyyy-MM-dd HH:mm:ss} UTC, {Describe(age)} ago; "
                + $"backup.maxAgeOfGivenBackup allows {Describe(settings.MaxAgeOfGivenBackup)}, because a rollback to it would lose every write made since. "
                + AcceptAdvice);
        }

        var (serverVersionNum, _) = await ReadServerVersionAsync(connectionString, cancellationToken);
        var pgRestore = await FindPgRestoreAsync(manifest, serverVersionNum / 10000, options, cancellationToken);
        await DumpVerifier.VerifyAsync(harbor, pgRestore, AcceptAdvice, options.Progress, cancellationToken);
        Log.Information("Using the given safe harbor {Path} (taken {Taken:u} by run {RunId}): checksum and contents verified",
            harbor.DumpPath, manifest.StartedUtc, manifest.RunId);
        return harbor;
    }

    /// <summary>Re-checks a safe harbor's checksum and contents; Rollback calls it before it restores.</summary>
    public async Task VerifyAsync(SafeHarbor harbor, CancellationToken cancellationToken = default)
    {
        var pgRestore = await FindPgRestoreAsync(harbor.Manifest, 0, options, cancellationToken);
        await DumpVerifier.VerifyAsync(harbor, pgRestore, VerifyAdvice, options.Progress, cancellationToken);
    }

    /// <summary>This environment's safe harbors of <paramref name="database"/> in the backup directory, newest first (for a Rollback in a new process).</summary>
    public IReadOnlyList<SafeHarbor> List(string environment, string database) => SafeHarborRetention.List(BackupDirectory, environment, database);

    /// <summary>Fails before anything changes unless pg_dump and pg_restore of the server's major version or newer are installed.</summary>
    public async Task<string> CheckClientToolsAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var (pgDump, pgRestore, _, _) = await FindClientToolsAsync(connectionString, cancellationToken);
        return $"{pgDump.Name} {pgDump.MajorVersion} and {pgRestore.Name} {pgRestore.MajorVersion} from {Path.GetDirectoryName(pgDump.Path)}";
    }

    async Task<(ClientTool PgDump, ClientTool PgRestore, int ServerVersionNum, string ServerVersion)> FindClientToolsAsync(string connectionString, CancellationToken cancellationToken)
    {
        var (serverVersionNum, serverVersion) = await ReadServerVersionAsync(connectionString, cancellationToken);
        var serverMajor = serverVersionNum / 10000;
        var pgDump = await ClientToolLocator.FindAsync(
            "pg_dump", options.ClientToolDirectory, serverMajor, $"dump a PostgreSQL {serverMajor} server ({serverVersion})", cancellationToken);
        // The same installation's pg_restore checks the dump: it reads exactly the archive version that pg_dump writes.
        var pgRestore = await ClientToolLocator.FindAsync(
            "pg_restore", Path.GetDirectoryName(pgDump.Path), serverMajor, $"read a dump of a PostgreSQL {serverMajor} server", cancellationToken);
        return (pgDump, pgRestore, serverVersionNum, serverVersion);
    }

    /// <summary>A pg_restore that can read the dump (as new as the pg_dump that wrote it) and load it into the server.</summary>
    internal static Task<ClientTool> FindPgRestoreAsync(BackupManifest manifest, int serverMajor, SafeHarborOptions options, CancellationToken cancellationToken)
    {
        var needed = Math.Max(manifest.PgDumpMajorVersion, serverMajor);
        var task = serverMajor > manifest.PgDumpMajorVersion
            ? $"restore into a PostgreSQL {serverMajor} server"
            : $"read a dump written by {manifest.PgDumpVersion}";
        return ClientToolLocator.FindAsync("pg_restore", options.ClientToolDirectory, needed, task, cancellationToken);
    }

    /// Progress only: a file pg_dump is still creating or renaming is measured next time instead.
    static long? PartialSize(string partialDump, DumpFormat format)
    {
        try
        {
            return DumpFingerprint.SizeOf(partialDump, format);
        }
        catch (IOException)
        {
            return null;
        }
    }

    static async Task<(int Number, string Text)> ReadServerVersionAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = await SafetyConnection.OpenAsync(connectionString, null, cancellationToken);
        return await SafetyConnection.ReadServerVersionAsync(connection, cancellationToken);
    }

    // Counting while pg_dump runs costs no extra time, and both read the same snapshot. Neither is left running when the other
    // fails, and the dump's own failure is the one reported when it has one: it names the lock it could not get, or the full disk.
    static async Task<IReadOnlyList<TableRowCount>> CountWhileDumpingAsync(
        ExportedSnapshot snapshot, Func<CancellationToken, Task> startDump, CancellationToken cancellationToken)
    {
        using var stopDump = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var dump = startDump(stopDump.Token);
        IReadOnlyList<TableRowCount> rowCounts;
        try
        {
            rowCounts = await RowCounter.CountAsync(snapshot.Connection, cancellationToken);
        }
        catch (Exception failure) when (failure is not OperationCanceledException)
        {
            // A lock the counts could not get within the lock wait stops the dump too, moments later; anything else cancels it.
            if (failure is not PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable })
            {
                await stopDump.CancelAsync();
            }

            await Task.WhenAny(dump);
            if (dump.IsFaulted)
            {
                await dump;
            }

            throw new DeploymentException(
                $"Counting the rows of database '{snapshot.Connection.Database}' for the safe harbor failed: {failure.Message.TrimEnd('.')}. "
                + "If a lock was not available, a session the maintenance fence missed holds one; end it and run again; nothing was changed.", failure);
        }

        await dump;
        return rowCounts;
    }

    static void MoveWithoutOverwriting(string from, string to, DumpFormat format)
    {
        if (format == DumpFormat.Directory)
        {
            Directory.Move(from, to);
        }
        else
        {
            File.Move(from, to, overwrite: false);
        }
    }

    static void DeletePartial(string partialDump, string partialManifest, DumpFormat format)
    {
        if (Path.Exists(partialDump))
        {
            ReadOnlyDump.Delete(partialDump, format);
        }

        if (File.Exists(partialManifest))
        {
            ReadOnlyDump.DeleteFile(partialManifest);
        }
    }

    internal static string Describe(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h" : span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#} min" : $"{span.TotalSeconds:0.#} s";
}
