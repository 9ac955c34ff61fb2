using System.Runtime.Versioning;
using PgDeploy.Environments;
using PgDeploy.Safety;
using PgDeploy.Tests.Fixtures;
using static PgDeploy.Tests.Safety.Backup.SafetyTestKit;

namespace PgDeploy.Tests.Safety.Backup;

/// <summary>--backup-file: an existing dump stands in for a fresh safe harbor only when it provably is one, of this database, and recent.</summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class AcceptGivenBackupTests(PostgresFixture postgres) : IDisposable
{
    const string TakeAFreshOne = "Take a fresh backup by leaving out --backup-file; nothing was changed.";
    readonly BackupDirectory directory = new();

    [Fact]
    public async Task Accepts_a_recent_intact_safe_harbor_of_the_same_database()
    {
        var (database, harbor) = await TakeAsync();

        var accepted = await Backup().AcceptGivenAsync(harbor.DumpPath, database, EnvironmentName);

        Assert.Equal(harbor.DumpPath, accepted.DumpPath);
        Assert.Equal(harbor.Manifest.Sha256, accepted.Manifest.Sha256);
    }

    [Fact]
    public async Task Refuses_a_dump_with_one_byte_flipped_in_AcceptGiven_and_Verify()
    {
        var (database, harbor) = await TakeAsync();
        FlipOneByte(harbor.DumpPath);

        var given = await Assert.ThrowsAsync<DeploymentException>(() => Backup().AcceptGivenAsync(harbor.DumpPath, database, EnvironmentName));
        var verified = await Assert.ThrowsAsync<DeploymentException>(() => Backup().VerifyAsync(harbor));

        Assert.Contains($"The safe harbor {harbor.DumpPath} is damaged: its SHA-256 is ", given.Message);
        Assert.EndsWith(TakeAFreshOne, given.Message);
        Assert.Contains("is damaged: its SHA-256", verified.Message);
        Assert.Contains("The database was not changed", verified.Message);
    }

    [Fact]
    public async Task Refuses_a_truncated_dump_in_AcceptGiven_and_Verify()
    {
        var (database, harbor) = await TakeAsync();
        Truncate(harbor.DumpPath);

        var given = await Assert.ThrowsAsync<DeploymentException>(() => Backup().AcceptGivenAsync(harbor.DumpPath, database, EnvironmentName));
        var verified = await Assert.ThrowsAsync<DeploymentException>(() => Backup().VerifyAsync(harbor));

        Assert.Contains($"is {harbor.Manifest.SizeBytes - 100} bytes but was {harbor.Manifest.SizeBytes} bytes when it was taken (truncated)", given.Message);
        Assert.EndsWith(TakeAFreshOne, given.Message);
        Assert.Contains("(truncated)", verified.Message);
    }

    [Fact]
    public async Task Refuses_a_dump_older_than_the_allowed_age()
    {
        var (database, harbor) = await TakeAsync();
        var strict = new SafeHarborBackup(new BackupSettings { Directory = directory.Path, MaxAgeOfGivenBackup = TimeSpan.FromMilliseconds(1) });
        await Task.Delay(10);

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => strict.AcceptGivenAsync(harbor.DumpPath, database, EnvironmentName));

        Assert.Contains($"The given backup {harbor.DumpPath} was taken at ", failure.Message);
        Assert.Contains("backup.maxAgeOfGivenBackup allows", failure.Message);
        Assert.EndsWith(TakeAFreshOne, failure.Message);
    }

    [Fact]
    public async Task Refuses_a_dump_of_another_database_or_environment()
    {
        var (database, harbor) = await TakeAsync();
        var other = await postgres.CreateDatabaseAsync();

        var otherDatabase = await Assert.ThrowsAsync<DeploymentException>(() => Backup().AcceptGivenAsync(harbor.DumpPath, other, EnvironmentName));
        var otherEnvironment = await Assert.ThrowsAsync<DeploymentException>(() => Backup().AcceptGivenAsync(harbor.DumpPath, database, "prod"));

        Assert.Contains($"not of database '{DatabaseOf(other)}' in environment '{EnvironmentName}'", otherDatabase.Message);
        Assert.Contains("not of database", otherEnvironment.Message);
        Assert.EndsWith(TakeAFreshOne, otherEnvironment.Message);
    }

    [Fact]
    public async Task Refuses_a_dump_without_its_manifest()
    {
        var (database, harbor) = await TakeAsync();
        File.Delete(harbor.ManifestPath);

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => Backup().AcceptGivenAsync(harbor.DumpPath, database, EnvironmentName));

        Assert.StartsWith($"The dump has no manifest ({harbor.ManifestPath})", failure.Message);
        Assert.EndsWith(TakeAFreshOne, failure.Message);
    }

    public void Dispose() => directory.Dispose();

    SafeHarborBackup Backup() => new(new BackupSettings { Directory = directory.Path });

    async Task<(string Database, SafeHarbor Harbor)> TakeAsync()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        return (database, await Backup().TakeAsync(database, EnvironmentName, "0.3", NewRunId()));
    }
}
