using System.Runtime.Versioning;
using PgDeploy.Deployments;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// `Status` is what an operator runs first after a night that went wrong: it must say which deployment is unfinished and in
/// which state, whether the fence is up, where the safe harbor and the journal are, and the one command that goes on, and it
/// must change nothing, the journal least of all.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class StatusTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Status_shows_the_unfinished_deployment_its_fence_safe_harbor_and_the_command_that_goes_on_and_changes_nothing()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.ConfigureAsync(scenario.Settings with { BackupMode = "clone+dump" });
        await scenario.PrepareAtV01Async();
        var first = scenario.Records.Journal;

        var idle = await StatusAsync(scenario);

        Assert.Contains($"Last deployment {first.RunId} (empty -> 0.1): complete.", idle.Output);
        Assert.Contains("Write fence: not up", idle.Output);
        Assert.Contains("Next: ./build.sh Deploy --version 0.2 --target-env ci deploys what is pending", idle.Output);

        (await scenario.RunAsync("MaintenanceOn", "--version", "0.2")).AssertExitCode(0);
        var fenced = scenario.Records.Journal;
        Assert.Equal(DeploymentState.Fenced, fenced.State);

        var afterFence = await StatusAsync(scenario);

        Assert.Contains($"Unfinished deployment {fenced.RunId} (0.1 -> 0.2): fenced, without a safe harbor yet.", afterFence.Output);
        Assert.Contains($"Journal: {scenario.Records.JournalPath}", afterFence.Output);
        Assert.Contains($"Write fence: A write fence is up on database '{scenario.Database.Name}'", afterFence.Output);
        Assert.Contains($"raised by run {fenced.RunId}: {scenario.App.Name} cannot log in", afterFence.Output);
        Assert.DoesNotContain("Safe harbor:", afterFence.Output);
        Assert.Contains("Next: ./build.sh Deploy --version 0.2 --target-env ci continues it (./build.sh Rollback --target-env ci undoes it instead)", afterFence.Output);
        Assert.False(await scenario.App.CanLogInAsync(), "Status must leave the fence up.");

        (await scenario.RunAsync("Backup", "--skip", "--version", "0.2")).AssertExitCode(0);
        var harbored = scenario.Records.Journal;
        Assert.Equal(DeploymentState.Harbored, harbored.State);

        var afterBackup = await StatusAsync(scenario);

        Assert.Contains($"Unfinished deployment {fenced.RunId} (0.1 -> 0.2): fenced, with its safe harbor.", afterBackup.Output);
        Assert.Null(harbored.SafeHarbor);
        Assert.Contains($"Safe harbor: the clone {scenario.Database.Name}__harbor_{fenced.RunId}, dumped after Restart", afterBackup.Output);
        Assert.Contains("Next: ./build.sh Deploy --version 0.2 --target-env ci continues it", afterBackup.Output);
    }

    /// <summary>Runs Status and checks that it succeeded without writing to the journal or the database.</summary>
    private static async Task<BuildRun> StatusAsync(DeploymentScenario scenario)
    {
        var journal = File.ReadAllText(scenario.Records.JournalPath);
        var dump = await scenario.DumpAsync();

        var status = await scenario.RunAsync("Status");

        status.AssertExitCode(0);
        Assert.Equal(journal, File.ReadAllText(scenario.Records.JournalPath));
        DumpAssert.Identical(dump, await scenario.DumpAsync());
        return status;
    }
}
