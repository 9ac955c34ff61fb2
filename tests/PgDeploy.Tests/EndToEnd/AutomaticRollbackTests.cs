using System.Runtime.Versioning;
using PgDeploy.Deployments;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// A deploy that fails in Migrate, PostProcess or Verify before anything of it is committed rolls back by itself without a
/// restore: the upgrade's transaction is gone, the fence comes down and the previous application starts again (by its revert
/// hook, or by a person told so). Commit points, which do need the safe harbor, are in DeploymentRecoveryTests.
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
    public async Task Without_a_revert_hook_a_failed_deploy_is_undone_without_a_restore_the_fence_lifted_and_the_operator_told_to_start_the_application(Failure failure)
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        var (run, before) = await DeployFailingAsync(scenario, failure);

        await AssertRolledBackAsync(scenario, run, before, failure);
        // The new code never started, so there is no code to revert: the previous one only needs starting again.
        Assert.DoesNotContain("REVERT THE APPLICATION CODE", run.Output);
        Assert.Contains("no revert hook is set: start the application at 0.1 again", run.Output);
        Assert.True(await scenario.App.CanLogInAsync(), $"Nothing was committed, so the fence must come down:{Environment.NewLine}{run.Output}");
        Assert.Equal(["stop app-can-log-in"], scenario.HookLog());
    }

    [Theory]
    [InlineData(Failure.InjectedIntoMigrate)]
    [InlineData(Failure.InjectedIntoPostProcess)]
    [InlineData(Failure.VerifyQueryFindsARow)]
    public async Task With_a_revert_hook_a_failed_deploy_is_undone_lifts_the_fence_then_runs_the_hook_to_start_the_previous_code(Failure failure)
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.ConfigureAsync(scenario.Settings with { RevertHook = true });
        var (run, before) = await DeployFailingAsync(scenario, failure);

        await AssertRolledBackAsync(scenario, run, before, failure);
        Assert.DoesNotContain("REVERT THE APPLICATION CODE", run.Output);
        Assert.Equal(["stop app-can-log-in", "revert app-can-log-in"], scenario.HookLog());
        Assert.True(await scenario.App.CanLogInAsync(), $"The previous code was started, so the fence must be lifted:{Environment.NewLine}{run.Output}");
        // The previous code writes to the 0.1 schema again, its serial key continuing from the sequence as it was.
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

        // Everything as before the deploy, the pgdeploy history and the sequences included: nothing of 0.2 survives, and no
        // restore was needed for that: the upgrade's transaction never committed.
        DumpAssert.Identical(dumpBefore, await scenario.DumpAsync());
        Assert.Empty(await scenario.DatabasesBesideAsync());
        Assert.Equal(RollbackMode.Undo, journal.Rollback);
        Assert.Contains("nothing was committed", run.Output);
    }
}
