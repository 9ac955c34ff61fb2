using System.Runtime.Versioning;
using Dapper;
using Npgsql;
using PgDeploy.Deployments;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// A deployment run stage by stage, as a CI pipeline runs it, one process each sharing the journal: `Backup` (which runs
/// Prerequisites and MaintenanceOn first), then `Verify --skip Prerequisites MaintenanceOn Backup` (Migrate, PostProcess and
/// Verify in one transaction), then `Restart --skip`. Between the stages the application is fenced out.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class StagedDeploymentTests(PostgresFixture postgres)
{
    [Fact]
    public async Task While_fenced_the_application_role_cannot_log_in_and_its_open_session_is_ended_and_after_Restart_it_writes_again()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.ConfigureAsync(scenario.Settings with { BackupMode = "clone+dump" });
        await scenario.PrepareAtV01Async();
        File.Delete(scenario.HookLogPath);
        await using var openSession = await scenario.App.OpenAsync();
        Assert.Equal(1, await openSession.ExecuteScalarAsync<int>("SELECT 1"));

        var fencing = await scenario.RunAsync("Backup", "--version", "0.2");

        fencing.AssertExitCode(0);
        Assert.Equal(["stop app-can-log-in"], scenario.HookLog());
        // The session the application had open was ended by the fence (pg_terminate_backend), its write never reached the table.
        var ended = await Assert.ThrowsAsync<PostgresException>(() => openSession.ExecuteScalarAsync<int>("INSERT INTO students (full_name) VALUES ('Too Late') RETURNING id"));
        Assert.Equal(PostgresErrorCodes.AdminShutdown, ended.SqlState);
        Assert.False(await scenario.App.CanLogInAsync(), $"The fence is up, the application's role must not log in:{Environment.NewLine}{fencing.Output}");
        Assert.Equal(0, await scenario.Database.ScalarAsync<long>("SELECT count(*) FROM students WHERE full_name = 'Too Late'"));
        // The guard rail behind NOLOGIN: every new session of the database starts read-only by default.
        Assert.Equal("on", await scenario.Database.ScalarAsync<string>("SHOW default_transaction_read_only"));
        var journal = scenario.Records.Journal;
        Assert.Equal(DeploymentState.Harbored, journal.State);
        Assert.Equal([journal.Clone!.Name], await scenario.DatabasesBesideAsync());

        var upgrading = await scenario.RunAsync("Verify", "--skip", "Prerequisites", "MaintenanceOn", "Backup", "--version", "0.2");

        upgrading.AssertExitCode(0);
        Assert.True(await scenario.Database.ColumnExistsAsync("students", "first_name"), upgrading.Output);
        Assert.False(await scenario.App.CanLogInAsync(), "Verify committed the upgrade, but the fence stays up until Restart.");
        Assert.Equal(DeploymentState.Committed, scenario.Records.Journal.State);

        var restarting = await scenario.RunAsync("Restart", "--skip", "--version", "0.2");

        restarting.AssertExitCode(0);
        Assert.Equal(["stop app-can-log-in", "start app-can-log-in"], scenario.HookLog());
        Assert.True(await scenario.App.CanLogInAsync());
        var id = await scenario.App.EnrolAtV02Async("Mary", "Jackson");
        Assert.Equal("Mary Jackson", await scenario.Database.ScalarAsync<string>("SELECT first_name || ' ' || last_name FROM students WHERE id = @id", new { id }));
        Assert.Equal("off", await scenario.Database.ScalarAsync<string>("SHOW default_transaction_read_only"));

        Assert.Equal(DeploymentState.Restarted, scenario.Records.Journal.State);

        var dumping = await scenario.RunAsync("DumpClone", "--skip", "--version", "0.2");

        dumping.AssertExitCode(0);
        Assert.True(File.Exists(scenario.Records.Journal.SafeHarbor), $"The DumpClone stage recorded no safe harbor:{Environment.NewLine}{dumping.Output}");
        Assert.Empty(await scenario.DatabasesBesideAsync());

        // One deployment across the four processes: one run id, one journal that tells the whole story.
        journal = scenario.Records.Journal;
        Assert.Equal(DeploymentState.Completed, journal.State);
        Assert.Equal(["Prerequisites", "MaintenanceOn", "Backup", "Migrate", "PostProcess", "Verify", "Restart", "DumpClone"],
            journal.Events.Select(entry => entry.Target).Distinct());
    }
}
