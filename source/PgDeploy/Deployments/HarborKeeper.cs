using PgDeploy.Environments;
using PgDeploy.Migrations.History;
using PgDeploy.Safety;
using Serilog;

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

    /// clone+dump where it is stated, or unset and the server allows it; else the dump inside the fence, with the reason in the log.
    /// Stated clone+dump that the server does not allow is refused; on a server whose disk cannot be seen from here it is taken at its word.
    public async Task<CloneCheck> ChooseCloneAsync(CancellationToken cancellationToken)
    {
        if (request.Settings.Backup.Mode == BackupMode.Dump)
            return new CloneCheck(false, "backup.mode is dump");
        var check = await SafeHarborClone.CheckAsync(site.ConnectionString, cancellationToken);
        if (check.Possible)
            return check;
        // A server elsewhere hides its disk from the runner, not from the operator who stated the mode.
        if (request.Settings.Backup.Mode == BackupMode.CloneAndDump && check.RoomUnknown)
            return check with { Possible = true, Reason = $"stated in '{request.EnvironmentName}', and {check.Reason}: the copy needs room on it as large as the database" };
        if (request.Settings.Backup.Mode == BackupMode.CloneAndDump)
            throw new DeploymentException(
                $"backup.mode is clone+dump in '{request.EnvironmentName}', but the safe harbor cannot be a clone: {check.Reason}. " +
                "Fix that, or set backup.mode to dump (or leave it out, to fall back to the dump by itself).");
        Log.Information("The safe harbor is dumped inside the fence, not cloned: {Reason}", check.Reason);
        return check;
    }

    /// Sessions the fence leaves on the database, which would keep the clone from starting: said before the fence, with what then happens.
    public async Task<string> DescribeCloneHindranceAsync(CancellationToken cancellationToken) =>
        await SafeHarborClone.DescribeUnfencedSessionsAsync(site.ConnectionString, site.Identity.Database, request.Settings.Fence.Roles, cancellationToken) is { } sessions
            ? $"; connected now and not fenced: {sessions}; still there at Backup, they keep the clone from starting, and " +
              (request.Settings.Backup.Mode == BackupMode.CloneAndDump
                  ? "the deployment fails there and rolls back (add their roles to fence.roles, or end them first)"
                  : "the safe harbor is dumped inside the fence instead (add their roles to fence.roles for the clone)")
            : "";

    /// Clones the fenced database into &lt;db&gt;__harbor_&lt;run&gt; and records it in the journal before it is made. The row counts
    /// are taken first, from the database itself: inside the fence the clone holds the same rows, and it takes no connection.
    public async Task<(HarborClone Clone, long SizeBytes)> TakeCloneAsync(DeploymentJournal journal, Action<string, string> record, CancellationToken cancellationToken)
    {
        var provenance = await CurrentProvenanceAsync(exceptRunId: null, cancellationToken);
        IReadOnlyList<TableRowCount> counts;
        await using (var connection = await site.OpenAsync(cancellationToken))
            counts = await RowCounter.CountAsync(connection, cancellationToken);
        var clone = new HarborClone(CloneName(journal), DateTimeOffset.UtcNow, provenance, counts);
        journal.Clone = clone;
        record("Backup", $"cloning database {site.Identity.Database} into {clone.Name}");
        var size = await SafeHarborClone.CreateAsync(site.ConnectionString, site.Identity.Database, clone.Name, cancellationToken);
        return (clone, size);
    }

    /// The verified dump of the clone, as Backup takes it in dump mode; its rows must be those counted when it was made.
    public async Task<SafeHarbor> DumpCloneAsync(DeploymentJournal journal, HarborClone clone, CancellationToken cancellationToken)
    {
        if (!await SafeHarborClone.ExistsAsync(site.ConnectionString, site.Identity.Database, clone.Name, cancellationToken))
            throw new PersonNeededException(
                $"The clone {clone.Name}, the safe harbor of deployment {journal.RunId}, no longer exists, so its dump cannot be taken. The upgrade is committed and " +
                "the new version runs: take a backup of the database now with your regular tooling, then end the deployment with ./build.sh MaintenanceOff.");
        await SafeHarborClone.OpenForDumpAsync(site.ConnectionString, site.Identity.Database, clone.Name, cancellationToken);
        var harbor = await Backup.TakeAsync(site.ConnectionString, request.EnvironmentName, journal.FromVersion, journal.RunId, cancellationToken,
            clone.Provenance, fromClone: clone.Name);
        var differences = RowCounter.Differences(clone.RowCounts, harbor.Manifest.RowCounts);
        if (differences.Count > 0)
            throw new PersonNeededException(
                $"The dump {harbor.DumpPath} of the clone {clone.Name} does not hold the rows counted when it was made ({string.Join("; ", differences.Take(10))}): " +
                "someone wrote into the clone. Drop that dump, and take a backup of the database with your regular tooling; the clone is kept for inspection.");
        return harbor;
    }

    /// This deployment's clone, if it is still there: a rollback swaps it in instead of restoring the dump.
    public async Task<bool> CloneKeptAsync(DeploymentJournal? journal, CancellationToken cancellationToken) =>
        journal?.Clone is { Gone: false } clone && await SafeHarborClone.ExistsAsync(site.ConnectionString, site.Identity.Database, clone.Name, cancellationToken);

    /// Drops this deployment's clone, if one is there: once its dump is verified, or when the deployment is undone.
    public async Task DropCloneAsync(DeploymentJournal journal, CancellationToken cancellationToken)
    {
        await SafeHarborClone.DropAsync(site.ConnectionString, site.Identity.Database, CloneName(journal), cancellationToken);
        if (journal.Clone is { Gone: false } clone)
            journal.Clone = clone with { Gone = true };
    }

    /// A clone kept by an earlier deployment (backup.keepClone) served that deployment's rollback by hand, which a new one ends.
    public async Task DropEarlierClonesAsync(DeploymentJournal journal, CancellationToken cancellationToken)
    {
        var dropped = await SafeHarborClone.DropEarlierAsync(site.ConnectionString, site.Identity.Database, CloneName(journal), cancellationToken);
        if (dropped.Count > 0)
            Log.Information("Dropped the clone(s) {Clones} kept by earlier deployments", string.Join(", ", dropped));
    }

    /// By the run id, so that a clone a killed run was making is found even before the journal recorded it.
    string CloneName(DeploymentJournal journal) => RestoreNames.Harbor(site.Identity.Database, journal.RunId);

    /// The row counts Verify checks against: the clone's while it is the safe harbor, else the dump's manifest's.
    public static IReadOnlyDictionary<string, long> RowCountsByName(DeploymentJournal journal) =>
        journal is { SafeHarbor: null, Clone: { } clone }
            ? clone.RowCounts.ToDictionary(count => count.Name, count => count.Rows)
            : Recorded(journal).Manifest.RowCountsByName;

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
