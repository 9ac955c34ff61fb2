using PgDeploy;
using PgDeploy.Safety;

/// The safe harbor: the verified dump that Rollback restores.
partial class Build
{
    PgDeploy.Environments.BackupSettings BackupSettings => TargetEnvironment.Settings.Backup with { Directory = BackupDirectory };

    SafeHarborOptions SafeHarborOptions => new() { ClientToolDirectory = BackupSettings.ClientToolDirectory };

    async Task TakeSafeHarborAsync(CancellationToken cancellationToken)
    {
        var backup = new SafeHarborBackup(BackupSettings, SafeHarborOptions);
        var connection = await ConnectionStringAsync(cancellationToken);
        var harbor = BackupFile is { } given
            ? await backup.AcceptGivenAsync(given, connection, TargetEnv, cancellationToken)
            : await backup.TakeAsync(connection, TargetEnv, DeploymentJournal.FromVersion, RunId, cancellationToken);
        DeploymentJournal.SafeHarbor = harbor.DumpPath;
        DeploymentJournal.Record(nameof(Backup),
            $"{(BackupFile is null ? "took" : "accepted")} {harbor.DumpPath} ({harbor.Manifest.SizeBytes / 1024.0 / 1024.0:N1} MiB, sha256 {harbor.Manifest.Sha256[..12]}…, {harbor.Manifest.RowCounts.Count} tables counted)");
        ReportSummary($"{Path.GetFileName(harbor.DumpPath)} ({harbor.Manifest.SizeBytes / 1024.0 / 1024.0:N1} MiB)");
    }

    SafeHarbor RecordedSafeHarbor =>
        DeploymentJournal.SafeHarbor is { } dump
            ? SafeHarbor.Load(dump, $"The journal {DeploymentJournal.Path} names this safe harbor; restore the file from where backups are kept.")
            : throw new DeploymentException(
                $"The journal {DeploymentJournal.Path} records no safe harbor for deployment {RunId}: the Backup target has not run for it. " +
                "Run Backup first (or the whole Deploy); to restore another dump, use pg_restore by hand.");
}
