using PgDeploy.Migrations.History;
using PgDeploy.Safety;

namespace PgDeploy.Deployments;

/// The deployment's safe harbor: taken inside the fence, or given with --backup-file and accepted only if it is
/// provably a dump of this database in its current state. A dump of another state (an older deployment's, taken
/// before writes the application made since) would silently lose data on a rollback.
sealed class HarborKeeper(DeploymentRequest request, DeploymentSite site)
{
    public SafeHarborBackup Backup => new(request.Settings.Backup with { Directory = request.BackupDirectory }, Options);

    /// How the dump and the restore run the client tools and report their progress: the same for both.
    public SafeHarborOptions Options => new() { ClientToolDirectory = request.Settings.Backup.ClientToolDirectory, Progress = request.Console.Progress };

    public async Task<SafeHarbor> TakeOrAcceptAsync(DeploymentJournal journal, string? givenDump, CancellationToken cancellationToken)
    {
        var provenance = await CurrentProvenanceAsync(exceptRunId: null, cancellationToken);
        if (givenDump is not null)
            return await AcceptGivenAsync(givenDump, provenance, cancellationToken);
        return await Backup.TakeAsync(site.ConnectionString, request.EnvironmentName, journal.FromVersion, journal.RunId, cancellationToken, provenance);
    }

    /// A dump killed half-way is no safe harbor; once its deployment is undone or finished, nothing will resume it.
    public void RemoveStalePartials()
    {
        if (Directory.Exists(request.BackupDirectory))
            StalePartials.Remove(request.BackupDirectory, request.EnvironmentName, site.Identity.Database);
    }

    /// For Prerequisites: the given dump is this database's, of its current history, and taken inside the fence
    /// that is up now; refused before anything changes otherwise.
    public async Task<string> CheckGivenAsync(string givenDump, CancellationToken cancellationToken) =>
        (await AcceptGivenAsync(givenDump, await CurrentProvenanceAsync(exceptRunId: null, cancellationToken), cancellationToken)).Manifest.FileName;

    async Task<SafeHarbor> AcceptGivenAsync(string givenDump, HarborProvenance now, CancellationToken cancellationToken)
    {
        var harbor = await Backup.AcceptGivenAsync(givenDump, site.ConnectionString, request.EnvironmentName, cancellationToken);
        var then = harbor.Manifest.Provenance;
        string? problem = then switch
        {
            null => "its manifest does not say which database, history and fence it was taken of (it was not taken by a deployment)",
            _ when then.SystemIdentifier != now.SystemIdentifier => $"it was taken on cluster {then.SystemIdentifier}, and this database is on cluster {now.SystemIdentifier}",
            _ when then.HistoryDigest != now.HistoryDigest => "the database's applied history has changed since it was taken (another deployment ran since)",
            _ when now.FenceRunId is null => "no write fence is up now, so the application may have written since it was taken",
            _ when then.FenceRunId != now.FenceRunId || then.FenceRaisedAt != now.FenceRaisedAt =>
                $"it was taken inside the fence raised by run {then.FenceRunId ?? "(none)"}, and the fence up now was raised by run {now.FenceRunId} at {now.FenceRaisedAt:u}: the application may have written in between",
            _ => null,
        };
        if (problem is not null)
            throw new DeploymentRefusedException(
                $"The given safe harbor {harbor.DumpPath} cannot be this deployment's: {problem}. A rollback to it would lose data. " +
                "Leave out --backup-file, and the deployment takes a fresh safe harbor inside its fence; nothing was changed.");
        return harbor;
    }

    public static SafeHarbor Recorded(DeploymentJournal journal) =>
        journal.SafeHarbor is { } dump
            ? SafeHarbor.Load(dump, $"The journal {journal.Path} names this safe harbor; put the file back from where backups are kept, then run again.")
            : throw new PersonNeededException(
                $"The journal {journal.Path} records no safe harbor for deployment {journal.RunId}, so it cannot be restored. " +
                "Restore the database from your regular backups; do not take a new dump of the database as it is now.");

    /// Before a restore: the safe harbor is of this database, and of the state this deployment started from (the
    /// history now, less what this deployment applied, is the history in the dump).
    public async Task VerifyBelongsAsync(SafeHarbor harbor, DeploymentJournal journal, CancellationToken cancellationToken)
    {
        var then = harbor.Manifest.Provenance;
        var now = await CurrentProvenanceAsync(exceptRunId: journal.RunId, cancellationToken);
        var problem = then switch
        {
            null => "its manifest does not say which database and history it holds",
            _ when then.SystemIdentifier != now.SystemIdentifier || harbor.Manifest.Database != site.Identity.Database =>
                $"it is a dump of database '{harbor.Manifest.Database}' on cluster {then.SystemIdentifier}, not of {site.Identity}",
            _ when then.HistoryDigest != now.HistoryDigest =>
                $"the database's history holds deployments other than {journal.RunId} since the dump was taken",
            _ => null,
        };
        if (problem is not null)
            throw new PersonNeededException(
                $"The safe harbor {harbor.DumpPath} cannot restore this database: {problem}. Restoring it would lose data, so nothing was restored. " +
                "Find the safe harbor of the state before this deployment (its manifest names the run), or restore from your regular backups.");
    }

    async Task<HarborProvenance> CurrentProvenanceAsync(string? exceptRunId, CancellationToken cancellationToken)
    {
        await using var connection = await site.OpenAsync(cancellationToken, retryWhileStarting: true);
        var history = await HistoryTable.ReadAsync(connection, null, cancellationToken);
        var fence = await new FenceControl(request, site).StatusAsync(cancellationToken);
        return new HarborProvenance(site.Identity.SystemIdentifier, HistoryDigest.Of(history, exceptRunId), fence?.Record?.RunId, fence?.Record?.RaisedAt);
    }
}
