using System.Runtime.Versioning;
using PgDeploy.Deployments;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>`Deploy --version 0.2` on a database at 0.1, with the application around it: the whole procedure, as an operator runs it.</summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class FullDeploymentTests(PostgresFixture postgres)
{
    private static readonly string[] Procedure = ["Prerequisites", "MaintenanceOn", "Backup", "Migrate", "PostProcess", "Verify", "Restart", "DumpClone"];

    [Fact]
    public async Task A_deploy_upgrades_the_database_reports_every_step_and_gives_the_application_back()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        // Stated, so that every machine runs the whole procedure: the default falls back to dump where the server's disk cannot be seen.
        await scenario.ConfigureAsync(scenario.Settings with { BackupMode = "clone+dump" });
        await scenario.PrepareAtV01Async();
        File.Delete(scenario.HookLogPath);
        var requestsBefore = scenario.Application.Requests.Count;

        var run = await scenario.DeployAsync("0.2");

        run.AssertExitCode(0);
        var records = scenario.Records;
        var statuses = records.TargetStatuses();
        Assert.All(Procedure, target => Assert.Equal("Succeeded", statuses[target]));
        Assert.NotEqual("Succeeded", statuses["Rollback"]);
        var journal = records.Journal;
        Assert.Equal(DeploymentState.Completed, journal.State);
        Assert.Equal(("0.1", "0.2"), (journal.FromVersion, journal.TargetVersion));

        var report = records.ReportMarkdown;
        Assert.All(Procedure, target => Assert.Contains($"| {target} | Succeeded |", report));
        Assert.NotEmpty(journal.Checks);
        Assert.All(journal.Checks, check => Assert.True(check.Passed, $"{check.Name}: {check.Detail}"));
        Assert.All(journal.Checks, check => Assert.Contains($"| {check.Name} |", report));
        Assert.Contains(journal.Checks, check => check.Name == "Verify query every_student_has_a_last_name.sql");
        Assert.Contains(journal.Checks, check => check.Name == "Row count: student_emails same-as:students");
        Assert.Contains(journal.Checks, check => check.Name == "smoke: teacher logs in");
        Assert.Contains("## Timeline (UTC)", report);
        Assert.All(journal.Events, entry => Assert.Contains($"{entry.Target}: {entry.Message}", report));

        // The stop hook ran while the application could still log in (before the fence), the start hook after the fence was lifted.
        Assert.Equal(["stop app-can-log-in", "start app-can-log-in"], scenario.HookLog());
        Assert.Equal(Procedure, journal.Events.Select(entry => entry.Target).Distinct());
        Assert.NotNull(journal.FenceRaisedAt);
        Assert.NotNull(journal.FenceLiftedAt);

        // Health first, then the smoke check's login, which carried the secret from the child's environment.
        var requests = scenario.Application.Requests.Skip(requestsBefore).ToList();
        Assert.StartsWith("GET /health", requests[0]);
        Assert.Contains(requests, request => request.StartsWith("POST /login", StringComparison.Ordinal) && request.Contains(scenario.SmokePassword));
        scenario.AssertSecretNowhere(scenario.SmokePassword, run);

        // The application works on the new schema: it logs in, writes, and its serial key continues after the existing rows.
        var maxIdBefore = await scenario.Database.ScalarAsync<int>("SELECT max(id) FROM students");
        var id = await scenario.App.EnrolAtV02Async("Mary", "Jackson");
        Assert.Equal(maxIdBefore + 1, id);
        Assert.Equal(
            ["Ada Lovelace", "Alan Turing", "Grace Brewster Hopper", "Katherine Coleman Johnson", "Mary Jackson"],
            await scenario.Database.QueryAsync<string>("SELECT first_name || ' ' || last_name FROM students ORDER BY id"));
        Assert.Equal(0, await scenario.Database.ScalarAsync<long>("SELECT count(*) FROM students s LEFT JOIN student_emails e ON e.student_id = s.id WHERE e.email IS NULL"));

        // The safe harbor and its manifest are where the journal says, read-only and readable by their owner only, as is the directory.
        var harbor = journal.SafeHarbor!;
        var manifest = harbor + ".manifest.json";
        Assert.Equal(scenario.BackupDirectory, Path.GetDirectoryName(harbor));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(scenario.BackupDirectory));
        Assert.All([harbor, manifest], file =>
        {
            Assert.True(File.Exists(file), $"{file} is missing");
            Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(file));
        });
    }
}
