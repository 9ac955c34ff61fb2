using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using PgDeploy.Environments;
using PgDeploy.Safety;
using PgDeploy.Tests.Fixtures;
using static PgDeploy.Tests.Safety.Backup.SafetyTestKit;

namespace PgDeploy.Tests.Safety.Backup;

[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class SafeHarborBackupTests(PostgresFixture postgres) : IDisposable
{
    const UnixFileMode ReadOnlyFile = UnixFileMode.UserRead;
    readonly BackupDirectory directory = new();

    [Fact]
    public async Task Writes_a_verified_owner_only_read_only_dump_with_a_manifest_named_after_the_deployment()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        var runId = NewRunId();

        var harbor = await Backup().TakeAsync(database, EnvironmentName, "0.3.1", runId);

        var name = DatabaseOf(database);
        Assert.Equal(directory.Path, Path.GetDirectoryName(harbor.DumpPath));
        Assert.Matches($@"^test-{name}-v0\.3\.1-\d{{8}}T\d{{6}}Z-{Regex.Escape(runId)}\.dump$", Path.GetFileName(harbor.DumpPath));
        Assert.Equal(harbor.DumpPath + ".manifest.json", harbor.ManifestPath);
        Assert.Equal([Path.GetFileName(harbor.DumpPath), Path.GetFileName(harbor.ManifestPath)],
            Directory.GetFiles(directory.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(ReadOnlyFile, File.GetUnixFileMode(harbor.DumpPath));
        Assert.Equal(ReadOnlyFile, File.GetUnixFileMode(harbor.ManifestPath));

        var manifest = BackupManifest.Read(harbor.ManifestPath, "");
        Assert.Equal(harbor.Manifest, manifest with { RowCounts = harbor.Manifest.RowCounts });
        Assert.Equal(harbor.Manifest.RowCounts, manifest.RowCounts);
        Assert.Equal((EnvironmentName, name, "0.3.1", runId, DumpFormat.Custom), (manifest.Environment, manifest.Database, manifest.AppVersion, manifest.RunId, manifest.Format));
        Assert.Equal(Path.GetFileName(harbor.DumpPath), manifest.FileName);
        Assert.Equal(new FileInfo(harbor.DumpPath).Length, manifest.SizeBytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(harbor.DumpPath))), manifest.Sha256);
        Assert.StartsWith("pg_dump (PostgreSQL) ", manifest.PgDumpVersion);
        Assert.Equal(await ScalarAsync<int>(database, "SELECT current_setting('server_version_num')::int"), manifest.ServerVersionNum);
        Assert.Equal(await ScalarAsync<string>(database, "SHOW server_version"), manifest.ServerVersion);
        Assert.True(manifest.StartedUtc <= manifest.FinishedUtc && manifest.Duration == manifest.FinishedUtc - manifest.StartedUtc);
        Assert.Equal(
            [("app", "accounts", 50L), ("app", "events", 3L), ("app", "events_2025", 1L), ("app", "events_2026", 2L), ("app", "orders", 200L), ("public", "empty table", 0L)],
            manifest.RowCounts.Select(count => (count.Schema, count.Table, count.Rows)));
        Assert.Equal(["events"], manifest.RowCounts.Where(count => count.Partitioned).Select(count => count.Table));
    }

    [Fact]
    public async Task A_directory_dump_is_taken_in_parallel_and_made_read_only_and_owner_only_file_by_file()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        var backup = Backup(settings => settings with { Format = DumpFormat.Directory, Jobs = 2 });

        var harbor = await backup.TakeAsync(database, EnvironmentName, null, NewRunId());

        Assert.EndsWith(".dir", harbor.DumpPath);
        Assert.Contains("-vunknown-", harbor.DumpPath);
        Assert.Null(harbor.Manifest.AppVersion);
        Assert.Equal(ReadOnlyFile | UnixFileMode.UserExecute, File.GetUnixFileMode(harbor.DumpPath));
        var files = Directory.GetFiles(harbor.DumpPath);
        Assert.Contains(files, file => Path.GetFileName(file) == "toc.dat");
        Assert.All(files, file => Assert.Equal(ReadOnlyFile, File.GetUnixFileMode(file)));
        Assert.Equal(files.Sum(file => new FileInfo(file).Length), harbor.Manifest.SizeBytes);
        await backup.VerifyAsync(harbor);
    }

    [Fact]
    public async Task Each_run_gets_its_own_safe_harbor_and_an_existing_one_is_never_overwritten()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        var backup = Backup();
        var first = await backup.TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        var second = await backup.TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        Assert.NotEqual(first.DumpPath, second.DumpPath);

        // Occupy every name the next backup could choose in the coming seconds, as if an earlier backup of this run had them.
        var runId = NewRunId();
        var now = DateTime.UtcNow;
        var occupied = Enumerable.Range(-1, 30)
            .Select(seconds => Path.Combine(directory.Path, SafeHarborName.For(EnvironmentName, DatabaseOf(database), "0.3", now.AddSeconds(seconds), runId, DumpFormat.Custom)))
            .ToList();
        occupied.ForEach(path => File.WriteAllText(path, "an earlier safe harbor"));

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => backup.TakeAsync(database, EnvironmentName, "0.3", runId));

        Assert.Contains("already exists, and a safe harbor is never overwritten", failure.Message);
        Assert.All(occupied, path => Assert.Equal("an earlier safe harbor", File.ReadAllText(path)));
        Assert.Empty(Directory.GetFiles(directory.Path, "*.partial"));
    }

    [Fact]
    public async Task Keeps_the_newest_safe_harbors_of_the_environment_and_never_touches_other_files()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        var name = DatabaseOf(database);
        // Named like a safe harbor of this database but without a manifest: not made by this tool, so never deleted.
        var stranger = Path.Combine(directory.Path, $"test-{name}-v0.1-20200101T000000Z-someone.dump");
        File.WriteAllText(stranger, "not ours");
        var otherEnvironment = await Backup().TakeAsync(database, "staging", "0.3", NewRunId());
        var backup = Backup(settings => settings with { Keep = 2 });

        var taken = new List<SafeHarbor>();
        for (var run = 0; run < 4; run++)
        {
            taken.Add(await backup.TakeAsync(database, EnvironmentName, "0.3", NewRunId()));
        }

        Assert.Equal([taken[3].DumpPath, taken[2].DumpPath], backup.List(EnvironmentName, name).Select(harbor => harbor.DumpPath));
        Assert.All(taken.Take(2), harbor => Assert.False(File.Exists(harbor.DumpPath) || File.Exists(harbor.ManifestPath)));
        Assert.True(File.Exists(stranger));
        Assert.True(File.Exists(otherEnvironment.DumpPath) && File.Exists(otherEnvironment.ManifestPath));
    }

    [Fact]
    public async Task Refuses_a_pg_dump_older_than_the_server_before_dumping_and_names_the_package_to_install()
    {
        // This machine has only PostgreSQL 15 installed, and a pg_dump older than the server cannot be installed beside it for a
        // test: a stand-in script reports an older version and records whether it was ever asked to dump.
        var database = await postgres.CreateDatabaseAsync();
        var serverMajor = await ScalarAsync<int>(database, "SELECT current_setting('server_version_num')::int / 10000");
        var olderMajor = serverMajor - 1;
        var tools = Directory.CreateTempSubdirectory("pgdeploy-old-pg-dump-").FullName;
        var dumpAttempt = Path.Combine(tools, "dump-attempted");
        var script = Path.Combine(tools, "pg_dump");
        File.WriteAllText(script,
            $"""
             #!/bin/sh
             if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) {olderMajor}.9"; exit 0; fi
             touch '{dumpAttempt}'
             exit 1
             """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var backup = new SafeHarborBackup(new BackupSettings { Directory = directory.Path }, new SafeHarborOptions { ClientToolDirectory = tools });

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => backup.TakeAsync(database, EnvironmentName, "0.3", NewRunId()));

        Assert.StartsWith($"pg_dump {olderMajor} ({script}) cannot dump a PostgreSQL {serverMajor} server", failure.Message);
        Assert.Contains(
            $"install the client of the server's version: apt-get install postgresql-client-{serverMajor} (Debian/Ubuntu, from apt.postgresql.org for newer majors) and run again; nothing was changed",
            failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(dumpAttempt));
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
        Directory.Delete(tools, recursive: true);
    }

    public void Dispose() => directory.Dispose();

    SafeHarborBackup Backup(Func<BackupSettings, BackupSettings>? configure = null) =>
        new((configure ?? (settings => settings))(new BackupSettings { Directory = directory.Path }));
}
