using System.Runtime.Versioning;
using System.Text.Json;
using PgDeploy.Deployments;
using PgDeploy.Migrations;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// One environment, five databases (one per tenant) on one server: `Deploy` deploys each with a deployment of its own, a
/// canary first, then two at a time. A tenant whose data fails Verify stops the later waves, or not, as the fleet says; it
/// is exactly as before; the fleet report says which database is where; and the next plain Deploy finishes the rest.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class FleetTests(PostgresFixture postgres) : IDisposable
{
    private const string Environment = "tenants";

    private readonly BuildRoot root = new();

    [Fact]
    public async Task A_fleet_deploys_in_waves_stops_or_continues_after_a_failure_leaves_the_failed_tenant_as_before_and_a_rerun_finishes()
    {
        var tenants = new List<TestDatabase>();
        for (var i = 0; i < 5; i++)
        {
            tenants.Add(await TestDatabase.CreateAsync(postgres));
        }

        // The tenants' application logs in as one shared role, whose CONNECT is its own grant on each tenant: the fleet's fence is
        // per database, so two tenants deploy at once while the others keep their application.
        var app = $"tenant_app_{Guid.NewGuid():N}"[..24];
        await tenants[0].ExecuteAsync($"CREATE ROLE {app} LOGIN");
        foreach (var tenant in tenants)
        {
            await tenant.ExecuteAsync($"REVOKE CONNECT ON DATABASE {tenant.Name} FROM PUBLIC; GRANT CONNECT ON DATABASE {tenant.Name} TO {app}");
        }

        var acls = await Task.WhenAll(tenants.Select(AclAsync));
        SchoolReleases.WriteTo(root.Migrations);
        Configure(tenants, "stop", fenceRoles: [app]);
        var launch = new BuildLaunch { Environment = Environment, ConnectionString = postgres.ServerConnectionString };

        var first = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.1");

        first.AssertExitCode(0);
        Assert.All(Report().Databases, database => Assert.Equal(("deployed", "0.1"), (database.Status, database.VersionAfter)));
        Assert.Equal([1, 2, 2, 3, 3], Report().Databases.Select(database => database.Wave));

        // The third tenant enrolled a student whose name 0.2 cannot split: its Verify fails for real.
        var failing = tenants[2];
        await failing.ExecuteAsync($"INSERT INTO students (full_name) VALUES ('{SchoolReleases.SingleName}')");
        var before = await Task.WhenAll(tenants.Select(tenant => tenant.DumpWholeAsync()));

        var stopped = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.2");

        stopped.AssertExitCode(1);
        Assert.Contains("5 database(s): 2 deployed, 0 already at 0.2, 1 failed, 2 not started", stopped.Output);
        Assert.Equal(["deployed", "deployed", "failed", "not-started", "not-started"], Report().Databases.Select(database => database.Status));
        Assert.Equal(["0.2", "0.2", "0.1", null, null], Report().Databases.Select(database => database.VersionAfter));
        foreach (var index in new[] { 2, 3, 4 })
        {
            DumpAssert.Identical(before[index], await tenants[index].DumpWholeAsync(), $"dump of tenant {index + 1}");
        }

        Configure(tenants, "continue", fenceRoles: [app]);
        var continued = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.2");

        continued.AssertExitCode(1);
        Assert.Equal(["up-to-date", "up-to-date", "failed", "deployed", "deployed"], Report().Databases.Select(database => database.Status));
        DumpAssert.Identical(before[2], await failing.DumpWholeAsync(), "dump of the failing tenant");
        Assert.Contains("Fleet 'tenants': 5 database(s): 2 deployed, 2 already at 0.2, 1 failed, 0 not started", continued.Output);

        // Its data mended, the next plain Deploy finishes the fleet.
        await failing.ExecuteAsync($"UPDATE students SET full_name = '{SchoolReleases.SingleName} Ciccone' WHERE full_name = '{SchoolReleases.SingleName}'");
        var finished = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.2");

        finished.AssertExitCode(0);
        Assert.Equal(["up-to-date", "up-to-date", "deployed", "up-to-date", "up-to-date"], Report().Databases.Select(database => database.Status));
        Assert.All(Report().Databases, database => Assert.Equal("0.2", database.VersionAfter));
        Assert.True(Report().Databases[2].WindowSeconds > 0);
        // Every fence lifted: each tenant's grants are as before.
        Assert.Equal(acls, await Task.WhenAll(tenants.Select(AclAsync)));
        Assert.Contains($"| {failing.Name} | 2 | deployed 0.1 -> 0.2", File.ReadAllText(Path.ChangeExtension(ReportPath(), ".md")));

        // Beyond one machine: the same fleet as a GitHub Actions matrix, in the step outputs the fleet workflow reads.
        var outputs = Path.Combine(root.Directory, "github-output");
        var matrix = await DeploymentScenario.RunInAsync(root, launch with { Variables = new Dictionary<string, string> { ["GITHUB_OUTPUT"] = outputs } }, "FleetMatrix");
        matrix.AssertExitCode(0);
        Assert.Equal(
            [$"canary=[\"{tenants[0].Name}\"]", $"rest=[{string.Join(',', tenants.Skip(1).Select(tenant => $"\"{tenant.Name}\""))}]", "max-parallel=2", "fail-fast=false"],
            File.ReadAllLines(outputs));

        // A fence of roles holds for the whole server: two deployments at a time, here or as a CI engine's jobs, are refused.
        Configure(tenants, "stop", fenceRoles: [app], fenceScope: "roles");
        foreach (var target in new[] { "Deploy", "FleetMatrix" })
        {
            var refused = await DeploymentScenario.RunInAsync(root, launch, target, "--version", "0.2");
            refused.AssertExitCode(2);
            Assert.Contains("a role's NOLOGIN holds for the whole server", refused.Output);
        }

        Configure(tenants, "stop", fenceRoles: [app]);

        // One database by name, and only one of the fleet's; a step of the procedure needs the name.
        (await DeploymentScenario.RunInAsync(root, launch, "Status", "--database", tenants[0].Name)).AssertExitCode(0);
        var stranger = await DeploymentScenario.RunInAsync(root, launch, "Status", "--database", "postgres");
        stranger.AssertExitCode(2);
        Assert.Contains("--database postgres is not one of the databases of fleet 'tenants'", stranger.Output);
        var unnamed = await DeploymentScenario.RunInAsync(root, launch, "MaintenanceOn", "--version", "0.2");
        unnamed.AssertExitCode(2);
        Assert.Contains("Environment 'tenants' is a fleet of databases: name one with --database <name>", unnamed.Output);

        foreach (var tenant in tenants)
        {
            await tenant.ExecuteAsync($"REVOKE CONNECT ON DATABASE {tenant.Name} FROM {app}");
        }

        await tenants[0].ExecuteAsync($"DROP ROLE {app}");
    }

    [Fact]
    public async Task An_interrupted_fleet_interrupts_the_running_database_which_rolls_back_starts_no_other_and_the_next_Deploy_finishes()
    {
        var tenants = new[] { await TestDatabase.CreateAsync(postgres), await TestDatabase.CreateAsync(postgres) };
        SchoolReleases.WriteTo(root.Migrations);
        Configure(tenants, "continue");
        var launch = new BuildLaunch { Environment = Environment, ConnectionString = postgres.ServerConnectionString };
        (await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.1")).AssertExitCode(0);
        var before = await Task.WhenAll(tenants.Select(tenant => tenant.DumpWholeAsync()));
        // The first tenant's application is slow to stop: its stop hook is where the operator's Ctrl-C finds the fleet.
        var stopping = Path.Combine(root.Directory, "stop-hook-started");
        Configure(tenants, "continue", new { stop = new { command = $"touch '{stopping}' && sleep 30", timeout = "2min" } });

        using var fleet = await BuildProgram.StartAsync(root, launch, "Deploy", "--version", "0.2");
        await WaitForAsync(stopping, fleet);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", fleet.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        var exitCode = await fleet.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.True(exitCode == 130, $"The fleet exited {exitCode}, not 130:{System.Environment.NewLine}{fleet.Output}");
        Assert.Equal(["interrupted", "not-started"], Report().Databases.Select(database => database.Status));
        Assert.Equal(130, Report().Databases[0].ExitCode);
        for (var index = 0; index < tenants.Length; index++)
        {
            DumpAssert.Identical(before[index], await tenants[index].DumpWholeAsync(), $"dump of tenant {index + 1}");
        }

        Configure(tenants, "continue");
        var again = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.2");

        again.AssertExitCode(0);
        Assert.Equal(["deployed", "deployed"], Report().Databases.Select(database => database.Status));
    }

    [Fact]
    public async Task A_database_that_needs_a_person_stops_the_fleet_whatever_its_policy_and_the_next_Deploy_finishes_it()
    {
        var tenants = new[] { await TestDatabase.CreateAsync(postgres), await TestDatabase.CreateAsync(postgres) };
        SchoolReleases.WriteTo(root.Migrations);
        Configure(tenants, "continue");
        var launch = new BuildLaunch { Environment = Environment, ConnectionString = postgres.ServerConnectionString };
        (await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.1")).AssertExitCode(0);
        // The canary's application does not start on the new version: 0.2 is committed there, so a person decides.
        Configure(tenants, "continue", new { start = new { command = $"test \"$DEPLOY_DATABASE\" != '{tenants[0].Name}'" } });

        var stuck = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.2");

        stuck.AssertExitCode(3);
        Assert.Equal(["person-needed", "not-started"], Report().Databases.Select(database => database.Status));
        Assert.Equal(3, Report().Databases[0].ExitCode);
        Assert.Contains("1 need a person, 1 not started", stuck.Output);
        Assert.Contains("A database that needs a person comes first", stuck.Output);
        Assert.Contains("Restart failed", Report().Databases[0].Error);

        Configure(tenants, "continue");
        var finished = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.2");

        finished.AssertExitCode(0);
        Assert.Equal(["deployed", "deployed"], Report().Databases.Select(database => database.Status));
        Assert.Contains($"| {tenants[0].Name} | 1 | finished its deployment of 0.2", File.ReadAllText(Path.ChangeExtension(ReportPath(), ".md")));
        Assert.All(tenants, tenant => Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(ReportPath())!, tenant.Name, "build.log")), "Each database's deployment keeps its own build.log."));
    }

    [Fact]
    public async Task A_second_run_of_the_fleet_is_refused_while_the_first_runs_and_a_database_another_run_is_deploying_is_refused_not_unfinished()
    {
        var tenants = new[] { await TestDatabase.CreateAsync(postgres), await TestDatabase.CreateAsync(postgres) };
        SchoolReleases.WriteTo(root.Migrations);
        Configure(tenants, "stop");
        var launch = new BuildLaunch { Environment = Environment, ConnectionString = postgres.ServerConnectionString };
        (await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.1")).AssertExitCode(0);
        var before = await Task.WhenAll(tenants.Select(tenant => tenant.DumpWholeAsync()));
        // Every application is slow to stop, which is where the other runs find a deployment holding its lock.
        var stopping = Path.Combine(root.Directory, "stop-hook-started");
        Configure(tenants, "stop", new { stop = new { command = $"touch '{stopping}' && sleep 15", timeout = "2min" } }, deploymentLockWait: "1s");

        // An operator deploys the canary by hand while the fleet starts: the fleet's canary is refused, and says why, not "unfinished".
        using (var single = await BuildProgram.StartAsync(root, launch, "Deploy", "--version", "0.2", "--database", tenants[0].Name))
        {
            await WaitForAsync(stopping, single);
            var fleet = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.2");

            fleet.AssertExitCode(2);
            Assert.Equal(["refused", "not-started"], Report().Databases.Select(database => database.Status));
            Assert.Contains($"Another run holds the deployment lock of database '{tenants[0].Name}'", Report().Databases[0].Error);
            Assert.Equal(0, await single.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        }

        DumpAssert.Identical(before[1], await tenants[1].DumpWholeAsync(), "dump of the tenant the fleet did not start");

        // Two runs of the fleet at once: the second is refused before it starts any database, and names the first.
        File.Delete(stopping);
        var reportsBefore = Directory.GetDirectories(Path.Combine(root.Directory, ".nuke", "temp", "fleets")).Length;
        using (var first = await BuildProgram.StartAsync(root, launch, "Deploy", "--version", "0.2"))
        {
            await WaitForAsync(stopping, first);
            var second = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.2");

            second.AssertExitCode(2);
            Assert.Contains($"Another run holds the deployment lock of fleet '{Environment}'", second.Output);
            Assert.Contains($"'pgdeploy lock fleet {Environment}-", second.Output);
            var exitCode = await first.WaitForExitAsync(TimeSpan.FromSeconds(90));
            Assert.True(exitCode == 0, $"The first run of the fleet exited {exitCode}:{System.Environment.NewLine}{first.Output}");
        }

        Assert.Equal(["up-to-date", "deployed"], Report().Databases.Select(database => database.Status));
        Assert.Equal(reportsBefore + 1, Directory.GetDirectories(Path.Combine(root.Directory, ".nuke", "temp", "fleets")).Length);
        Configure(tenants, "stop");
        var again = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.2");
        again.AssertExitCode(0);
        Assert.Equal(["up-to-date", "up-to-date"], Report().Databases.Select(database => database.Status));
    }

    /// <summary>
    /// kill -9 of the fleet alone leaves its running database's deployment to finish by itself, an orphan with its own lock,
    /// journal and log; kill -9 of the whole process tree (a CI runner cancelled, the cgroup killed) stops it mid-way, and in
    /// both cases the next plain Deploy of the fleet finishes every database.
    /// </summary>
    [Fact]
    public async Task After_kill_9_of_the_fleet_alone_or_of_its_whole_tree_the_next_Deploy_finishes_every_database()
    {
        var tenants = new[] { await TestDatabase.CreateAsync(postgres), await TestDatabase.CreateAsync(postgres) };
        SchoolReleases.WriteTo(root.Migrations);
        var stopping = Path.Combine(root.Directory, "stop-hook-started");
        Configure(tenants, "stop", new { stop = new { command = $"touch '{stopping}' && sleep 5", timeout = "2min" } });
        var launch = new BuildLaunch { Environment = Environment, ConnectionString = postgres.ServerConnectionString };

        using (var fleet = await BuildProgram.StartAsync(root, launch, "Deploy", "--version", "0.1"))
        {
            await WaitForAsync(stopping, fleet);
            using var kill = System.Diagnostics.Process.Start("kill", ["-KILL", fleet.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            await fleet.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        // The canary's own deployment goes on without the fleet, and ends.
        var canary = new DeploymentRecords(root.Directory, tenants[0].Name);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!(canary.HasJournal && canary.Journal.State == DeploymentState.Completed) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal(DeploymentState.Completed, canary.Journal.State);
        Assert.Null(await tenants[1].CurrentVersionAsync());
        var resumed = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.1");
        resumed.AssertExitCode(0);
        Assert.Equal(["up-to-date", "deployed"], Report().Databases.Select(database => database.Status));

        var untouched = await tenants[1].DumpWholeAsync();
        File.Delete(stopping);
        using (var fleet = await BuildProgram.StartAsync(root, launch, "Deploy", "--version", "0.2"))
        {
            await WaitForAsync(stopping, fleet);
            await fleet.KillAsync();
        }

        Assert.True(StateMachine.IsActive(canary.Journal.State), $"The canary's deployment is {canary.Journal.State}.");
        DumpAssert.Identical(untouched, await tenants[1].DumpWholeAsync(), "dump of the tenant the killed fleet had not started");
        Configure(tenants, "stop");
        var finished = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.2");
        finished.AssertExitCode(0);
        Assert.Equal(["deployed", "deployed"], Report().Databases.Select(database => database.Status));
        foreach (var tenant in tenants)
        {
            Assert.Equal(new AppVersion(0, 2), await tenant.CurrentVersionAsync());
        }
    }

    private static async Task WaitForAsync(string file, BuildProcess program)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!File.Exists(file) && !program.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(File.Exists(file), $"The stop hook did not start:{System.Environment.NewLine}{program.Output}");
    }

    private void Configure(
        IEnumerable<TestDatabase> tenants, string onFailure, object? hooks = null, string[]? fenceRoles = null, string? fenceScope = null, string deploymentLockWait = "60s") =>
        root.WriteEnvironment(JsonSerializer.Serialize(new
        {
            production = false,
            fleet = new { databases = tenants.Select(tenant => tenant.Name), canary = 1, parallelism = 2, onFailure },
            hooks = hooks ?? new { },
            fence = fenceScope is null ? (object)new { roles = fenceRoles ?? [] } : new { roles = fenceRoles ?? [], scope = fenceScope },
            migrations = new { deploymentLockWait },
        }), Environment);

    private static async Task<string?> AclAsync(TestDatabase tenant) =>
        await tenant.ScalarAsync<string?>($"SELECT datacl::text FROM pg_database WHERE datname = '{tenant.Name}'");

    private string ReportPath() =>
        Directory.GetDirectories(Path.Combine(root.Directory, ".nuke", "temp", "fleets")).Order(StringComparer.Ordinal).Select(folder => Path.Combine(folder, "fleet.json")).Last(File.Exists);

    private FleetReportFile Report() =>
        JsonSerializer.Deserialize<FleetReportFile>(File.ReadAllText(ReportPath()), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;

    private sealed record FleetReportFile(IReadOnlyList<FleetMemberFile> Databases);

    private sealed record FleetMemberFile(string Database, int Wave, string Status, int? ExitCode, string? VersionAfter, double? WindowSeconds, string? Error);

    public void Dispose() => root.Dispose();
}
