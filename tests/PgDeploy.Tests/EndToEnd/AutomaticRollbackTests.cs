using System.Runtime.Versioning;
using PgDeploy.Deployments;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// A deploy that fails in Migrate, PostProcess or Verify rolls back by itself: the safe harbor is restored into a new database
/// that takes the name, the failed one is kept for forensics, and the application is reverted by its hook or by a person.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class AutomaticRollbackTests(PostgresFixture postgres)
{
    public enum Failure
    {
        InjectedIntoMigrate,
        InjectedIntoPostProcess,
        /// <summary>Not injected: the application enrolled a student whose single name 0.2 cannot split, and a verify query finds the row.</summary>
        VerifyQueryFindsARow,
    }

    [Theory]
    [InlineData(Failure.InjectedIntoMigrate)]
    [InlineData(Failure.InjectedIntoPostProcess)]
    [InlineData(Failure.VerifyQueryFindsARow)]
    public async Task Without_a_revert_hook_a_failed_deploy_restores_the_database_exactly_and_keeps_the_fence_up_until_a_person_reverts_the_code(Failure failure)
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        var (run, before) = await DeployFailingAsync(scenario, failure);

        await AssertRolledBackAsync(scenario, run, before, failure);
        Assert.Contains("REVERT THE APPLICATION CODE", run.Output);
        Assert.Contains("MaintenanceOff", run.Output);
        Assert.False(await scenario.App.CanLogInAsync(), "The fence must stay up until the previous code runs again.");
        Assert.Equal(["stop app-can-log-in"], scenario.HookLog());
    }

    [Theory]
    [InlineData(Failure.InjectedIntoMigrate)]
    [InlineData(Failure.InjectedIntoPostProcess)]
    [InlineData(Failure.VerifyQueryFindsARow)]
    public async Task With_a_revert_hook_a_failed_deploy_restores_the_database_lifts_the_fence_then_runs_the_hook_to_start_the_previous_code(Failure failure)
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.ConfigureAsync(scenario.Settings with { RevertHook = true });
        var (run, before) = await DeployFailingAsync(scenario, failure);

        await AssertRolledBackAsync(scenario, run, before, failure);
        Assert.DoesNotContain("REVERT THE APPLICATION CODE", run.Output);
        Assert.Equal(["stop app-can-log-in", "revert app-can-log-in"], scenario.HookLog());
        Assert.True(await scenario.App.CanLogInAsync(), $"The previous code was started, so the fence must be lifted:{Environment.NewLine}{run.Output}");
        // The previous code writes to the restored 0.1 schema again, its serial key continuing from the restored sequence.
        var maxId = await scenario.Database.ScalarAsync<int>("SELECT max(id) FROM students");
        Assert.Equal(maxId + 1, await scenario.App.EnrolAtV01Async("Dorothy Vaughan"));
    }

    /// <summary>Prepares the database at 0.1, takes the full dump, deploys 0.2 so that it fails; the hooks' log starts empty.</summary>
    private static async Task<(BuildRun Run, string DumpBefore)> DeployFailingAsync(DeploymentScenario scenario, Failure failure)
    {
        await scenario.PrepareAtV01Async(alsoEnrolSingleName: failure == Failure.VerifyQueryFindsARow);
        File.Delete(scenario.HookLogPath);
        var dumpBefore = await scenario.DumpAsync();
        var run = failure switch
        {
            Failure.InjectedIntoMigrate => await scenario.DeployAsync("0.2", "--inject-failure", "Migrate"),
            Failure.InjectedIntoPostProcess => await scenario.DeployAsync("0.2", "--inject-failure", "PostProcess"),
            _ => await scenario.DeployAsync("0.2"),
        };
        return (run, dumpBefore);
    }

    private static async Task AssertRolledBackAsync(DeploymentScenario scenario, BuildRun run, string dumpBefore, Failure failure)
    {
        run.AssertExitCode(1);
        var failedTarget = failure switch
        {
            Failure.InjectedIntoMigrate => "Migrate",
            Failure.InjectedIntoPostProcess => "PostProcess",
            _ => "Verify",
        };
        Assert.Equal($"Failed: {failedTarget} Failed; Rollback Succeeded.", scenario.Records.Outcome());
        var statuses = scenario.Records.TargetStatuses();
        Assert.Equal("Failed", statuses[failedTarget]);
        Assert.Equal("Succeeded", statuses["Rollback"]);
        Assert.NotEqual("Succeeded", statuses["Restart"]);
        var journal = scenario.Records.Journal;
        Assert.Equal(DeploymentState.RolledBack, journal.State);
        if (failure == Failure.VerifyQueryFindsARow)
        {
            var check = Assert.Single(journal.Checks, check => check.Name == "Verify query every_student_has_a_last_name.sql");
            Assert.False(check.Passed);
            Assert.Contains(SchoolReleases.SingleName, check.Detail);
        }
        else
        {
            Assert.Contains($"--inject-failure {failedTarget}", run.Output);
        }

        // Everything as before the deploy, the pgdeploy history and the sequences included: nothing of 0.2 survives.
        DumpAssert.Identical(dumpBefore, await scenario.DumpAsync());

        // The database that failed is kept under its forensic name beside the restored one: the original, with the application's
        // writes and without any of the upgrade, whose transaction never committed.
        Assert.Equal([scenario.FailedDatabaseName(journal.RunId)], await scenario.DatabasesBesideAsync());
        var failedDatabase = scenario.FailedDatabase(journal.RunId);
        Assert.Contains("Katherine Coleman Johnson", await failedDatabase.QueryAsync<string>("SELECT full_name FROM students"));
        Assert.False(await failedDatabase.TableExistsAsync("student_emails"));
    }
}
