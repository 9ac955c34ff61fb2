using PgDeploy.Migrations;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Migrations;

/// CI runs Migrate and PostProcess as stages in processes of their own: the first commits part of a version,
/// the second, of the same deployment, continues it. Another deployment may not.
[Collection("postgres")]
public sealed class StagedPhaseTests(PostgresFixture postgres)
{
    [Fact]
    public async Task PostProcess_in_a_later_process_of_the_same_deployment_continues_the_version_that_Migrate_committed()
    {
        using var migrations = SchoolMigrations.UpTo("0.4");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.3");
        var runId = Deployment.NewRunId();

        await RunPhaseAsync(database, migrations, runId, UpgradePhase.Migrate);
        var afterMigrate = await database.HistoryAsync();
        await RunPhaseAsync(database, migrations, runId, UpgradePhase.PostProcess);

        var history = await database.HistoryAsync();
        Assert.Contains(history, row => row.Kind == "csharp" && row.RunId == runId && row.Success);
        Assert.True(history.Count > afterMigrate.Count);
        Assert.Equal("0.4", UpgradePlanner.CurrentVersion(history)?.ToString());
    }

    [Fact]
    public async Task Another_deployment_may_not_continue_a_version_that_an_earlier_one_left_partly_applied_without_failing()
    {
        using var migrations = SchoolMigrations.UpTo("0.4");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.3");
        await RunPhaseAsync(database, migrations, Deployment.NewRunId(), UpgradePhase.Migrate);

        var refused = await Assert.ThrowsAsync<DeploymentRefusedException>(() => RunPhaseAsync(database, migrations, Deployment.NewRunId(), UpgradePhase.PostProcess));

        Assert.Contains("it was added after the version was deployed", refused.Message);
    }

    static async Task RunPhaseAsync(TestDatabase database, MigrationFolder migrations, string runId, UpgradePhase phase)
    {
        await using var run = new UpgradeRun(database.ConnectionString, migrations.Catalog(), AppVersion.Parse("0.4"), Deployment.Settings, runId);
        await run.ApplyAsync(phase, commit: true, CancellationToken.None);
    }
}
