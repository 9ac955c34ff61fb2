using System.Diagnostics;
using System.Runtime.Versioning;
using CliWrap;
using Npgsql;
using PgDeploy.Environments;
using PgDeploy.Safety;
using PgDeploy.Tests.Fixtures;
using static PgDeploy.Tests.Safety.Backup.SafetyTestKit;

namespace PgDeploy.Tests.Safety.Backup;

/// <summary>
/// A safe harbor holds all of the database, the application users' passwords included: no other local user may read it, not even
/// while pg_dump writes it. What a killed run left of one is removed by the next run of the same database, and nothing else is.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class SafeHarborAccessTests(PostgresFixture postgres) : IDisposable
{
    const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    const UnixFileMode OwnerOnlyDirectory = OwnerOnlyFile | UnixFileMode.UserExecute;
    const UnixFileMode OpenDirectory =
        OwnerOnlyDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    const UnixFileMode ReadOnlyFile = UnixFileMode.UserRead;
    const UnixFileMode ReadOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserExecute;
    static readonly DateTime LongAgo = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    readonly BackupDirectory directory = new();

    [Theory]
    [InlineData(DumpFormat.Custom)]
    [InlineData(DumpFormat.Directory)]
    public async Task The_dump_is_owner_only_while_pg_dump_writes_it_and_read_only_for_its_owner_once_taken(DumpFormat format)
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        var harbors = Path.Combine(directory.Path, "new", "backups");
        var runId = NewRunId();
        // A session holding a table lock keeps pg_dump waiting with its output open, long enough to look at it.
        await using var blocker = new NpgsqlConnection(database);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await new NpgsqlCommand("LOCK TABLE app.orders IN ACCESS EXCLUSIVE MODE", blocker, transaction).ExecuteNonQueryAsync();
        var backup = new SafeHarborBackup(
            new BackupSettings { Directory = harbors, Format = format, Jobs = 2 }, new SafeHarborOptions { LockWaitTimeout = TimeSpan.FromMinutes(2) });

        var taking = backup.TakeAsync(database, EnvironmentName, "0.3", runId);
        await WaitUntilPgDumpWaitsForALockAsync(database, runId, taking);
        var partial = Assert.Single(Directory.GetFileSystemEntries(harbors));
        var modeWhileWritten = File.GetUnixFileMode(partial);
        await transaction.CommitAsync();
        var harbor = await taking;

        Assert.Equal(harbor.DumpPath + ".partial", partial);
        Assert.Equal(format == DumpFormat.Directory ? OwnerOnlyDirectory : OwnerOnlyFile, modeWhileWritten);
        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(harbors));
        Assert.Equal(ReadOnlyFile, File.GetUnixFileMode(harbor.ManifestPath));
        if (format == DumpFormat.Directory)
        {
            Assert.Equal(ReadOnlyDirectory, File.GetUnixFileMode(harbor.DumpPath));
            Assert.All(Directory.GetFiles(harbor.DumpPath), file => Assert.Equal(ReadOnlyFile, File.GetUnixFileMode(file)));
        }
        else
        {
            Assert.Equal(ReadOnlyFile, File.GetUnixFileMode(harbor.DumpPath));
        }

        await backup.VerifyAsync(harbor);
    }

    [Fact]
    public async Task An_open_backup_directory_of_this_user_is_closed_to_others_and_that_is_said_once()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        var open = Directory.CreateDirectory(Path.Combine(directory.Path, "open")).FullName;
        File.SetUnixFileMode(open, OpenDirectory);
        using var log = new CapturedLog();

        await Backup(open).TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        await Backup(open).TakeAsync(database, EnvironmentName, "0.3", NewRunId());

        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(open));
        Assert.Equal(
            [$"[INF] Made the backup directory {open} accessible to its owner only (0755 to 0700): safe harbors hold all of the database, the application users' passwords included"],
            log.Mentioning($"backup directory {open}"));
    }

    [RootOnlyFact]
    public async Task An_open_backup_directory_of_another_user_is_left_as_it_is_with_a_warning_that_says_how_to_close_it()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        var shared = Directory.CreateDirectory(Path.Combine(directory.Path, "shared")).FullName;
        File.SetUnixFileMode(shared, OpenDirectory);
        // nobody's uid: another user whether or not the machine has a name for it.
        await Cli.Wrap("chown").WithArguments(["65534", shared]).ExecuteAsync();
        using var log = new CapturedLog();

        var harbor = await Backup(shared).TakeAsync(database, EnvironmentName, "0.3", NewRunId());

        Assert.Equal(OpenDirectory, File.GetUnixFileMode(shared));
        Assert.Equal(ReadOnlyFile, File.GetUnixFileMode(harbor.DumpPath));
        Assert.Equal(ReadOnlyFile, File.GetUnixFileMode(harbor.ManifestPath));
        var warning = Assert.Single(log.Mentioning($"backup directory {shared}"));
        Assert.StartsWith($"[WRN] The backup directory {shared} is open to its group or others (0755) and belongs to another user, so this run leaves it as it is", warning);
        Assert.EndsWith(
            $"To close it, run chmod 700 {shared} as its owner, or set backup.directory to a directory of the user that runs the deployments", warning);
    }

    [Fact]
    public async Task What_a_killed_run_left_of_a_safe_harbor_is_removed_by_the_next_run_of_the_same_database_and_nothing_else_is()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        var name = DatabaseOf(database);
        var otherDatabase = DatabaseOf(await postgres.CreateDatabaseAsync());
        string Entry(string fileName) => Path.Combine(directory.Path, fileName);

        // Left by killed runs of this environment and database: a custom dump with its manifest, and a directory dump that had
        // already been made read-only when its run was killed, just before the rename.
        var killed = SafeHarborName.For(EnvironmentName, name, "0.2", LongAgo, "killed", DumpFormat.Custom);
        var killedDirectory = SafeHarborName.For(EnvironmentName, name, null, LongAgo.AddSeconds(1), "killed-too", DumpFormat.Directory);
        File.WriteAllText(Entry($"{killed}.partial"), "half a dump");
        File.WriteAllText(Entry($"{killed}.manifest.json.partial"), "{");
        Directory.CreateDirectory(Entry($"{killedDirectory}.partial"));
        File.WriteAllText(Entry($"{killedDirectory}.partial/toc.dat"), "half a dump");
        File.SetUnixFileMode(Entry($"{killedDirectory}.partial/toc.dat"), ReadOnlyFile);
        File.SetUnixFileMode(Entry($"{killedDirectory}.partial"), ReadOnlyDirectory);
        // Not this database's, or not this tool's: another database's dump may be being written right now.
        string[] others =
        [
            $"{SafeHarborName.For(EnvironmentName, otherDatabase, "0.2", LongAgo, "running", DumpFormat.Custom)}.partial",
            $"{SafeHarborName.For("staging", name, "0.2", LongAgo, "running", DumpFormat.Custom)}.partial",
            $"{killed}.partial.keep",
            "notes.partial",
        ];
        foreach (var other in others)
        {
            File.WriteAllText(Entry(other), "not ours");
        }

        using var log = new CapturedLog();
        var backup = Backup(directory.Path, DumpFormat.Directory, keep: 1);
        var first = await backup.TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        var second = await backup.TakeAsync(database, EnvironmentName, "0.3", NewRunId());

        Assert.Equal(
            others.Append(Path.GetFileName(second.DumpPath)).Append(Path.GetFileName(second.ManifestPath)).Order(StringComparer.Ordinal),
            Directory.GetFileSystemEntries(directory.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.All(others, other => Assert.Equal("not ours", File.ReadAllText(Entry(other))));
        var removal = $"left unfinished by an earlier safe harbor of database {name} that was stopped before it completed";
        Assert.Equal(
            new[] { $"{killed}.manifest.json.partial", $"{killed}.partial", $"{killedDirectory}.partial" }.Select(entry => $"[INF] Removed {Entry(entry)}, {removal}").Order(StringComparer.Ordinal),
            log.Mentioning(removal).Order(StringComparer.Ordinal));
        // backup.keep = 1: the first safe harbor, read-only and owner-only, was deleted when the second was taken.
        Assert.False(Directory.Exists(first.DumpPath) || File.Exists(first.ManifestPath));
        Assert.Contains(log.Mentioning(first.DumpPath), line => line.StartsWith("[INF] Deleted the old safe harbor", StringComparison.Ordinal));
    }

    public void Dispose() => directory.Dispose();

    static SafeHarborBackup Backup(string harbors, DumpFormat format = DumpFormat.Custom, int keep = 10) =>
        new(new BackupSettings { Directory = harbors, Format = format, Keep = keep });

    /// <summary>Until the run's pg_dump session waits for a table lock: it has started and opened its output.</summary>
    static async Task WaitUntilPgDumpWaitsForALockAsync(string database, string runId, Task taking)
    {
        var clock = Stopwatch.StartNew();
        while (!await ScalarAsync<bool>(database,
                   "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = @name AND wait_event_type = 'Lock')",
                   new { name = $"pgdeploy safe harbor {runId}" }))
        {
            if (taking.IsCompleted)
            {
                await taking;
                Assert.Fail("The safe harbor was taken although a table of it was locked.");
            }

            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), "pg_dump did not start waiting for the table lock within a minute.");
            await Task.Delay(50);
        }
    }
}
