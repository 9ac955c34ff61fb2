using System.Collections.Concurrent;
using System.Runtime.Versioning;
using PgDeploy.Environments;
using PgDeploy.Progress;
using PgDeploy.Safety;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Safety.Backup;
using static PgDeploy.Tests.Safety.Backup.SafetyTestKit;

namespace PgDeploy.Tests.Safety.Restore;

/// The dump, its checksums and the restore report to the progress they are given, and end with what they really did.
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class SafeHarborProgressTests(PostgresFixture postgres) : IDisposable
{
    readonly BackupDirectory directory = new();

    [Theory]
    [InlineData(DumpFormat.Custom)]
    [InlineData(DumpFormat.Directory)]
    public async Task Dump_checksum_and_restore_report_their_bytes_and_complete(DumpFormat format)
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        var settings = new BackupSettings { Directory = directory.Path, Format = format, Jobs = 2 };
        var progress = new RecordedProgress();
        var options = new SafeHarborOptions { Progress = progress };

        var first = await new SafeHarborBackup(settings, options).TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        var second = await new SafeHarborBackup(settings, options).TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        await new SafeHarborRestore(settings, options).RestoreAsync(second, database, NewRunId(), dropFailedDatabase: true);

        Assert.Equal(
        [
            "Safe harbor dump", "SHA-256 of the safe harbor", "Safe harbor dump", "SHA-256 of the safe harbor",
            "SHA-256 of the safe harbor", "Restore",
        ], progress.Works.Select(work => work.Work.What));
        Assert.All(progress.Works, work => Assert.Equal(WorkUnit.Bytes, work.Work.Unit));
        Assert.All(progress.Works, work => Assert.True(work.Completed && work.Disposed, work.Work.What));

        var (firstDump, firstHash, secondDump, secondHash, verify, restore) =
            (progress.Works[0], progress.Works[1], progress.Works[2], progress.Works[3], progress.Works[4], progress.Works[5]);
        // No earlier safe harbor to go by: the first dump's size is not guessed. The second is expected to be about as big as the first.
        Assert.Equal((null, first.Manifest.SizeBytes), (firstDump.Work.Total, firstDump.Reports[^1]));
        Assert.Equal((first.Manifest.SizeBytes, true, second.Manifest.SizeBytes), (secondDump.Work.Total, secondDump.Work.TotalIsEstimate, secondDump.Reports[^1]));
        foreach (var (hash, harbor) in new[] { (firstHash, first), (secondHash, second), (verify, second) })
            Assert.Equal((harbor.Manifest.SizeBytes, harbor.Manifest.SizeBytes), (hash.Work.Total, hash.Reports[^1]));
        // The restore is measured by the restored database's size against the original's when it was dumped.
        Assert.Equal(second.Manifest.DatabaseSizeBytes, restore.Work.Total);
        Assert.True(restore.Work.TotalIsEstimate);
        Assert.InRange(restore.Reports[^1], 1, long.MaxValue);
        Assert.All(progress.Works, work => Assert.Equal(work.Reports.Order(), work.Reports));
    }

    public void Dispose() => directory.Dispose();

    sealed class RecordedProgress : IWorkProgress
    {
        public ConcurrentQueue<Recorded> Queue { get; } = new();
        public IReadOnlyList<Recorded> Works => [.. Queue];

        public IWorkReport Begin(LongWork work)
        {
            var recorded = new Recorded(work);
            Queue.Enqueue(recorded);
            return recorded;
        }
    }

    sealed class Recorded(LongWork work) : IWorkReport
    {
        public LongWork Work { get; } = work;
        public List<long> Reports { get; } = [];
        public bool Completed { get; private set; }
        public bool Disposed { get; private set; }

        public void Report(long done) => Reports.Add(done);
        public void Complete() => Completed = true;
        public void Dispose() => Disposed = true;
    }
}
