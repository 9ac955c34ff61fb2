using System.Runtime.Versioning;
using PgDeploy.Deployments;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// `Rollback` by hand after a deploy that succeeded, e.g. when a bug shows up in the morning: it must be confirmed with the
/// database's name and, since Restart lifted the fence, with --discard-writes-since-restart; then it restores the safe harbor.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class ManualRollbackTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_manual_rollback_with_a_wrong_database_name_or_without_consent_to_discard_new_writes_is_refused_and_changes_nothing()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await DeployThenLetTheApplicationWriteAsync(scenario);
        var afterDeploy = await scenario.SnapshotAsync();
        var journalAfterDeploy = File.ReadAllText(scenario.Records.JournalPath);
        var reportAfterDeploy = scenario.Records.ReportMarkdown;
        var database = scenario.Database.Name;

        var wrongName = await scenario.RunAsync("Rollback", "--confirm-database", $"{database}_typo");

        wrongName.AssertExitCode(2);
        Assert.Contains($"The name typed ('{database}_typo') is not the database's ('{database}'); nothing was changed.", wrongName.Output);
        await scenario.AssertUnchangedAsync(afterDeploy, wrongName);
        AssertDeploymentRecordsUnchanged();

        var withoutConsent = await scenario.RunAsync("Rollback", "--confirm-database", database);

        withoutConsent.AssertExitCode(2);
        Assert.Contains("the application has been writing", withoutConsent.Output);
        Assert.Contains("--discard-writes-since-restart", withoutConsent.Output);
        await scenario.AssertUnchangedAsync(afterDeploy, withoutConsent);
        AssertDeploymentRecordsUnchanged();

        // The deployment still reads as the success it was, with its own report.
        void AssertDeploymentRecordsUnchanged()
        {
            Assert.Equal(journalAfterDeploy, File.ReadAllText(scenario.Records.JournalPath));
            Assert.Equal(reportAfterDeploy, scenario.Records.ReportMarkdown);
            Assert.Equal(DeploymentState.Completed, scenario.Records.Journal.State);
        }
    }

    [Fact]
    public async Task A_confirmed_manual_rollback_restores_the_database_as_before_the_deploy_and_keeps_the_discarded_writes_in_the_failed_database()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        var beforeDeploy = await DeployThenLetTheApplicationWriteAsync(scenario);
        File.Delete(scenario.HookLogPath);
        var database = scenario.Database.Name;

        var run = await scenario.RunAsync("Rollback", "--confirm-database", database, "--discard-writes-since-restart");

        // The Rollback itself succeeded, but the application stays fenced until a person reverts its code: exit 3 says so to CI.
        run.AssertExitCode(3);
        Assert.Equal("Succeeded", scenario.Records.TargetStatuses()["Rollback"]);
        var journal = scenario.Records.Journal;
        Assert.Equal(DeploymentState.AwaitingRevert, journal.State);
        DumpAssert.Identical(beforeDeploy, await scenario.DumpAsync());

        // The fence went up again before the restore (the stop hook first, while the application could still log in), and stays
        // up without a revert hook, with the message to a person: the new code ran, and it does not fit the restored schema.
        Assert.Equal(["stop app-can-log-in"], scenario.HookLog());
        Assert.False(await scenario.App.CanLogInAsync());
        Assert.Contains("REVERT THE APPLICATION CODE", run.Output);

        // Once the code is reverted, MaintenanceOff ends the rollback and gives the application its database back.
        var lifted = await scenario.RunAsync("MaintenanceOff");
        lifted.AssertExitCode(0);
        Assert.True(await scenario.App.CanLogInAsync(), lifted.Output);
        Assert.Equal(DeploymentState.RolledBack, scenario.Records.Journal.State);

        // What the application wrote after Restart is not lost for good: it is in the database kept for forensics.
        var forensic = scenario.FailedDatabaseName(journal.RunId);
        Assert.Equal([forensic], await scenario.DatabasesBesideAsync());
        var failedDatabase = scenario.FailedDatabase(journal.RunId);
        Assert.Equal(["Mary Jackson"], await failedDatabase.QueryAsync<string>("SELECT first_name || ' ' || last_name FROM students WHERE last_name = 'Jackson'"));
    }

    /// <summary>Prepares 0.1, deploys 0.2 and lets the application write on it; returns the full dump from before the deploy.</summary>
    private static async Task<string> DeployThenLetTheApplicationWriteAsync(DeploymentScenario scenario)
    {
        await scenario.PrepareAtV01Async();
        var beforeDeploy = await scenario.DumpAsync();
        (await scenario.DeployAsync("0.2")).AssertExitCode(0);
        await scenario.App.EnrolAtV02Async("Mary", "Jackson");
        return beforeDeploy;
    }
}
