using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Dapper;
using Npgsql;
using PgDeploy.Deployments;
using PgDeploy.Postgres;
using PgDeploy.Rehearsals;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// `Rehearse` runs the upgrade on a scratch copy of the live database: it must leave the live database, its server and the
/// build's files as they were (but for its record), report a failing upgrade before anyone is fenced, never run against the live
/// database, clean up after a killed run, and feed Deploy its predicted window and the check a production environment may require.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class RehearsalTests(PostgresFixture postgres)
{
    private const string RehearsalVariable = "DATABASE_URL_CI_REHEARSAL";

    [Fact]
    public async Task Rehearse_of_the_school_upgrade_passes_changes_nothing_but_its_record_and_Deploy_then_shows_the_predicted_window()
    {
        using var root = new BuildRoot();
        var database = await TestDatabase.CreateAsync(postgres);
        var launch = SchoolSample.Launch(database);
        await SchoolSample.DeployAtV03Async(root, launch, database, users: 300);
        var dump = await database.DumpWholeAsync();
        var server = await ServerStateAsync();
        var files = FilesOf(root);

        var rehearsal = await DeploymentScenario.RunInAsync(root, launch, "Rehearse", "--version", "0.4");

        rehearsal.AssertExitCode(0);
        Assert.Contains("Rehearsing 0.3 -> 0.4", rehearsal.Output);
        Assert.Contains($"Dropped the scratch database {database.Name}__rehearse_", rehearsal.Output);
        DumpAssert.Identical(dump, await database.DumpWholeAsync());
        Assert.Equal(server, await ServerStateAsync());
        var records = new DeploymentRecords(root.Directory, database.Name);
        var recordPath = Path.Combine(Path.GetDirectoryName(records.JournalPath)!, RehearsalRecord.FileName);
        Assert.Equal(files.Keys.Append(recordPath).Order(StringComparer.Ordinal), FilesOf(root).Keys.Order(StringComparer.Ordinal));
        Assert.All(files, file => Assert.Equal(file.Value, File.ReadAllText(file.Key)));
        var record = RehearsalRecord.Load(recordPath)!;
        Assert.True(record.Passed, record.Failure);
        Assert.Equal(("0.3", "0.4"), (record.FromVersion, record.TargetVersion));
        Assert.Equal(["MaintenanceOn", "Backup", "Migrate", "PostProcess", "Verify", "Restart"], record.Targets.Select(target => target.Name));
        // The application's stop is no scratch copy's to time: the deployment to 0.3 measured it.
        Assert.StartsWith("as deployment ", record.Targets[0].Source);
        Assert.All(record.Steps, step => Assert.NotNull(step.Seconds));
        Assert.NotNull(record.PrecomputeSeconds);
        Assert.True(record.Targets.Skip(1).Take(4).All(target => target.Seconds > 0), rehearsal.Output);

        var deploy = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.4");

        deploy.AssertExitCode(0);
        Assert.Contains($"rehearsal: {record.Describe()}", deploy.Output);
        Assert.Matches(@"PostProcess: [0-9.]+ s in the rehearsal; ETA \d\d:\d\d:\d\d UTC, window ends about \d\d:\d\d:\d\d UTC", deploy.Output);
        var applied = (await database.HistoryAsync()).Where(row => row.Success && row.Version == "0.4").Select(row => (row.Version, row.Name, row.Checksum!));
        Assert.Equal(applied, record.Steps.Select(step => (step.Version, step.Name, step.Checksum)));
    }

    [Fact]
    public async Task A_version_that_fails_is_reported_by_Rehearse_before_anyone_is_fenced_and_the_live_database_is_untouched()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async(alsoEnrolSingleName: true);
        var before = await scenario.SnapshotAsync();

        var rehearsal = await scenario.RunAsync("Rehearse", "--version", "0.2");

        rehearsal.AssertExitCode(1);
        Assert.Contains("The rehearsal of 0.1 -> 0.2 failed, before anyone was fenced: upgrading the scratch database:", rehearsal.Output);
        Assert.Contains("every_student_has_a_last_name", rehearsal.Output);
        await AssertLiveUntouchedAsync(scenario, before, rehearsal);
        var record = RehearsalRecord.Load(RecordPath(scenario))!;
        Assert.False(record.Passed);
        Assert.Contains("every_student_has_a_last_name", record.Failure);
    }

    [Fact]
    public async Task Rehearse_refuses_a_rehearsal_server_URL_that_names_the_live_database()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        await scenario.ConfigureAsync(scenario.Settings with { RehearsalServer = RehearsalVariable });
        var before = await scenario.SnapshotAsync();
        var launch = scenario.Launch with { Variables = new Dictionary<string, string>(scenario.Launch.Variables) { [RehearsalVariable] = scenario.RunnerConnectionString } };

        var rehearsal = await scenario.RunAsync(launch, "Rehearse", "--version", "0.2");

        rehearsal.AssertExitCode(2);
        Assert.Contains($"rehearsal.server names {RehearsalVariable}, and that URL points at the live database itself", rehearsal.Output);
        await scenario.AssertUnchangedAsync(before, rehearsal);
        Assert.Empty(await ScratchDatabasesAsync(scenario));
    }

    [Fact]
    public async Task Rehearse_refuses_while_a_deployment_of_the_database_is_unfinished()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        (await scenario.RunAsync("MaintenanceOn", "--version", "0.2")).AssertExitCode(0);
        var before = await scenario.SnapshotAsync();

        var rehearsal = await scenario.RunAsync("Rehearse", "--version", "0.2");

        rehearsal.AssertExitCode(2);
        Assert.Contains($"Deployment {scenario.Records.Journal.RunId} of database '{scenario.Database.Name}' (0.1 -> 0.2) is fenced, without a safe harbor yet, " +
                        "so a rehearsal now would rehearse a half-done deployment. Finish or undo it first (./build.sh Deploy --version 0.2 --target-env ci", rehearsal.Output);
        DumpAssert.Identical(before.Dump, await scenario.DumpAsync());
        Assert.Equal(before.Records, scenario.Records.Files().ToDictionary(file => file, File.ReadAllText));
        Assert.Equal(before.BackupFiles, scenario.BackupFiles());
        Assert.Empty(await ScratchDatabasesAsync(scenario));
    }

    [Fact]
    public async Task On_a_rehearsal_server_of_its_own_Rehearse_names_the_roles_it_lacks_and_passes_once_they_exist()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        await using var cluster = await LocalCluster.StartTemporaryAsync();
        await scenario.ConfigureAsync(scenario.Settings with { RehearsalServer = RehearsalVariable });
        var url = cluster.ConnectionString();
        var secret = new NpgsqlConnectionStringBuilder(url).Password;
        Assert.False(string.IsNullOrEmpty(secret), "The rehearsal server's URL must hold a password for the test to prove it secret.");
        var launch = scenario.Launch with { Variables = new Dictionary<string, string>(scenario.Launch.Variables) { [RehearsalVariable] = url } };
        var before = await scenario.SnapshotAsync();

        var refused = await scenario.RunAsync(launch, "Rehearse", "--version", "0.2");

        refused.AssertExitCode(2);
        Assert.Contains($"has no role '{scenario.App.Name}'", refused.Output);
        await scenario.AssertUnchangedAsync(before, refused);

        await using (var rehearsalServer = new NpgsqlConnection(cluster.ConnectionString()))
        {
            await rehearsalServer.OpenAsync();
            await rehearsalServer.ExecuteAsync($"CREATE ROLE {DatabaseAdmin.QuoteIdentifier(scenario.App.Name)}");
        }

        var rehearsal = await scenario.RunAsync(launch, "Rehearse", "--version", "0.2");

        rehearsal.AssertExitCode(0);
        await AssertLiveUntouchedAsync(scenario, before, rehearsal);
        Assert.StartsWith($"127.0.0.1:{new NpgsqlConnectionStringBuilder(cluster.ConnectionString()).Port}", RehearsalRecord.Load(RecordPath(scenario))!.Server);
        await using var after = new NpgsqlConnection(cluster.ConnectionString());
        await after.OpenAsync();
        Assert.Empty(await after.QueryAsync<string>("SELECT datname FROM pg_database WHERE datname LIKE '%\\_\\_rehearse\\_%'"));
        scenario.AssertSecretNowhere(secret!, refused, rehearsal);
    }

    [Fact]
    public async Task A_production_environment_that_requires_a_rehearsal_refuses_Deploy_without_one_of_the_same_plan_and_accepts_it_after()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        await scenario.ConfigureAsync(scenario.Settings with { Production = true, RehearsalRequired = true });

        var withoutRehearsal = await scenario.DeployAsync("0.2", "--yes");

        DeploymentScenario.AssertRefusedInPrerequisites(withoutRehearsal, "rehearsal");
        Assert.Contains("requires a passing rehearsal of this plan no older than 24 h", withoutRehearsal.Output);
        Assert.Contains("Run ./build.sh Rehearse --version 0.2 --target-env ci first", withoutRehearsal.Output);

        (await scenario.RunAsync("Rehearse", "--version", "0.2")).AssertExitCode(0);
        scenario.Root.Migrations.Script("0.2", "040_added_after_the_rehearsal.sql", "SELECT 1;\n");

        var otherPlan = await scenario.DeployAsync("0.2", "--yes");

        DeploymentScenario.AssertRefusedInPrerequisites(otherPlan, "rehearsal");
        Assert.Contains("with other steps or checksums than this plan", otherPlan.Output);

        File.Delete(Path.Combine(scenario.Root.Migrations.Directory, "v0.2", "040_added_after_the_rehearsal.sql"));
        // The same plan, but older than the environment allows: data grows, and an old rehearsal says little about tonight.
        await scenario.ConfigureAsync(scenario.Settings with { RehearsalMaxAge = "1s" });
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var tooOld = await scenario.DeployAsync("0.2", "--yes");

        DeploymentScenario.AssertRefusedInPrerequisites(tooOld, "rehearsal");
        Assert.Matches(@"the last rehearsal of this plan finished [0-9.]+ s ago, and rehearsal.maxAge is 1 s", tooOld.Output);

        await scenario.ConfigureAsync(scenario.Settings with { RehearsalMaxAge = "24h" });
        var deploy = await scenario.DeployAsync("0.2", "--yes");

        deploy.AssertExitCode(0);
        Assert.Matches(@"rehearsal: predicted window \d+ s \(rehearsal \d{4}-\d\d-\d\d \d\d:\d\d\)", deploy.Output);
        Assert.Equal(DeploymentState.Completed, scenario.Records.Journal.State);
    }

    [Fact]
    public async Task A_killed_Rehearse_leaves_a_scratch_named_as_a_rehearsal_and_the_next_Rehearse_drops_it_first()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        AddGate(scenario);
        await scenario.PrepareAtV01Async();
        var before = await scenario.SnapshotAsync();

        string scratch;
        await using (var gate = await HoldGateAsync())
        {
            using var build = await BuildProgram.StartAsync(scenario.Root, scenario.Launch, "Rehearse", "--version", "0.2");
            scratch = await WaitAtGateAsync(gate, scenario, build);
            await build.KillAsync();
        }

        Assert.Equal([scratch], await ScratchDatabasesAsync(scenario));
        Assert.False(File.Exists(RecordPath(scenario)));

        var rehearsal = await scenario.RunAsync("Rehearse", "--version", "0.2");

        rehearsal.AssertExitCode(0);
        Assert.Contains($"Dropped {scratch}, the scratch database of an earlier rehearsal that was stopped before it could drop it", rehearsal.Output);
        Assert.Contains("the dump of an earlier rehearsal that was stopped before it could remove it", rehearsal.Output);
        await AssertLiveUntouchedAsync(scenario, before, rehearsal);
    }

    [Fact]
    public async Task An_interrupted_Rehearse_drops_its_scratch_and_its_dump_before_it_exits()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        AddGate(scenario);
        await scenario.PrepareAtV01Async();
        var before = await scenario.SnapshotAsync();

        BuildRun interrupted;
        await using (var gate = await HoldGateAsync())
        {
            using var build = await BuildProgram.StartAsync(scenario.Root, scenario.Launch, "Rehearse", "--version", "0.2");
            await WaitAtGateAsync(gate, scenario, build);
            Assert.Equal(0, kill(build.Id, Sigterm));
            interrupted = await BuildRun.EndOfAsync(build, "Rehearse --version 0.2", TimeSpan.FromSeconds(60));
        }

        interrupted.AssertExitCode(130);
        Assert.Contains($"Dropped the scratch database {scenario.Database.Name}__rehearse_", interrupted.Output);
        DumpAssert.Identical(before.Dump, await scenario.DumpAsync());
        Assert.Empty(await ScratchDatabasesAsync(scenario));
        Assert.Equal(before.BackupFiles, scenario.BackupFiles());
        Assert.Equal(before.Records, scenario.Records.Files().ToDictionary(file => file, File.ReadAllText));
    }

    private const string Gate = "pgdeploy-tests rehearsal gate";

    private const int Sigterm = 15;

    [DllImport("libc")]
    private static extern int kill(int pid, int signal);

    /// <summary>A script in 0.2 that waits while a session with the gate's application name exists: a gate every database sees, the scratch included.</summary>
    private static void AddGate(DeploymentScenario scenario) =>
        scenario.Root.Migrations.Script("0.2", "015_gate.sql", $"""
            DO $$ BEGIN
                WHILE EXISTS (SELECT FROM pg_stat_activity WHERE application_name = '{Gate}') LOOP
                    PERFORM pg_sleep(0.05);
                    PERFORM pg_stat_clear_snapshot();
                END LOOP;
            END $$;
            """);

    private async Task<NpgsqlConnection> HoldGateAsync()
    {
        var gate = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(postgres.ServerConnectionString) { ApplicationName = Gate, Pooling = false }.ConnectionString);
        await gate.OpenAsync();
        return gate;
    }

    /// <summary>Waits until the rehearsal's upgrade waits at the gate, in its scratch database; returns that database's name.</summary>
    private static async Task<string> WaitAtGateAsync(NpgsqlConnection gate, DeploymentScenario scenario, BuildProcess build)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var scratch = (await gate.QueryAsync<string>(
                "SELECT datname FROM pg_stat_activity WHERE query LIKE '%pg_stat_clear_snapshot%' AND datname LIKE @pattern AND pid <> pg_backend_pid()",
                new { pattern = $"{scenario.Database.Name}\\_\\_rehearse\\_%" })).FirstOrDefault();
            if (scratch is not null)
                return scratch;
            Assert.False(build.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60), $"The rehearsal did not reach the gate:{Environment.NewLine}{build.Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The live database as before, the application's role not fenced, no hook run, no safe harbor taken, no database left beside it,
    /// and the deployment records unchanged but for the rehearsal's own record.
    /// </summary>
    private async Task AssertLiveUntouchedAsync(DeploymentScenario scenario, ScenarioSnapshot before, BuildRun run)
    {
        DumpAssert.Identical(before.Dump, await scenario.DumpAsync());
        Assert.True(await scenario.App.CanLogInAsync(), $"`{run.Command}` fenced the application:{Environment.NewLine}{run.Output}");
        Assert.Equal(before.HookLog, scenario.HookLog());
        Assert.Equal(before.BackupFiles, scenario.BackupFiles());
        Assert.Empty(await scenario.DatabasesBesideAsync());
        Assert.Empty(await ScratchDatabasesAsync(scenario));
        var records = scenario.Records.Files().Where(file => file != RecordPath(scenario)).ToDictionary(file => file, File.ReadAllText);
        Assert.Equal(before.Records, records);
        Assert.True(File.Exists(RecordPath(scenario)), "The rehearsal must leave its record.");
    }

    private static string RecordPath(DeploymentScenario scenario) =>
        Path.Combine(Path.GetDirectoryName(scenario.Records.JournalPath)!, RehearsalRecord.FileName);

    private async Task<IReadOnlyList<string>> ScratchDatabasesAsync(DeploymentScenario scenario)
    {
        await using var server = new NpgsqlConnection(postgres.ServerConnectionString);
        await server.OpenAsync();
        return [.. await server.QueryAsync<string>("SELECT datname FROM pg_database WHERE starts_with(datname, @prefix) ORDER BY 1",
            new { prefix = $"{scenario.Database.Name}__rehearse_" })];
    }

    /// <summary>Every database and role of the server: a rehearsal must leave neither behind.</summary>
    private async Task<(string Databases, string Roles)> ServerStateAsync()
    {
        await using var server = new NpgsqlConnection(postgres.ServerConnectionString);
        await server.OpenAsync();
        return (string.Join(",", await server.QueryAsync<string>("SELECT datname FROM pg_database ORDER BY 1")),
            string.Join(",", await server.QueryAsync<string>("SELECT rolname FROM pg_roles ORDER BY 1")));
    }

    /// <summary>The build root's files and their contents, but for logs (every run writes them) and the program's own temp directory.</summary>
    private static Dictionary<string, string> FilesOf(BuildRoot root) =>
        Directory.GetFiles(root.Directory, "*", SearchOption.AllDirectories)
            .Where(file => !file.EndsWith(".log", StringComparison.Ordinal) && !file.StartsWith(root.TemporaryDirectory, StringComparison.Ordinal))
            .ToDictionary(file => file, File.ReadAllText);
}
