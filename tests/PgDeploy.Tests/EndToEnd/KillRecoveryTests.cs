using System.Diagnostics;
using System.Runtime.Versioning;
using Npgsql;
using PgDeploy.Deployments;
using PgDeploy.Migrations;
using PgDeploy.Postgres;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;
using Xunit.Abstractions;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// The build program is killed with SIGKILL (its whole process tree, as a lost machine or an operator's kill -9 does) at each
/// point of a deployment, or the server crashes under it; then the next plain command alone gets the database exactly to
/// "as after" (Deploy) or "as before" (Rollback): the fence lifted, no half-made database left, nothing lost. The run is held at
/// each point for real, not simulated: by a lock the test holds (pg_dump waits for a table, a script and a verify query for an
/// advisory lock) or by a hook that waits; only then is it killed.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class KillRecoveryTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const long MigrateGate = 7_404_001;
    private const long VerifyGate = 7_404_002;
    private const string RestoreGateHolder = "restore-gate-holder";
    private static readonly TimeSpan HeldWithin = TimeSpan.FromSeconds(60);

    public enum KillPoint
    {
        /// <summary>In MaintenanceOn, while the stop hook runs: the fence is being raised.</summary>
        MaintenanceOn,
        /// <summary>
        /// Right after MaintenanceOn, before Backup began: a run of MaintenanceOn alone leaves exactly this on disk (the journal at
        /// Fenced, the fence up, the application stopped), since Backup writes its own state before it does anything else.
        /// </summary>
        AfterMaintenanceOn,
        /// <summary>In Backup, while pg_dump waits for a table lock: the fence is up, the safe harbor half-written.</summary>
        Backup,
        /// <summary>In Migrate, inside the upgrade's transaction.</summary>
        Migrate,
        /// <summary>In Verify, while a verify query runs inside the still open upgrade transaction.</summary>
        Verify,
        /// <summary>In Restart, while the start hook runs: committed, the fence lifted, the new application starting.</summary>
        Restart,
    }

    [Theory]
    [InlineData(KillPoint.MaintenanceOn, DeploymentState.Fencing)]
    [InlineData(KillPoint.AfterMaintenanceOn, DeploymentState.Fenced)]
    [InlineData(KillPoint.Backup, DeploymentState.Harboring)]
    [InlineData(KillPoint.Migrate, DeploymentState.Applying)]
    [InlineData(KillPoint.Verify, DeploymentState.Applying)]
    [InlineData(KillPoint.Restart, DeploymentState.Restarting)]
    public async Task After_a_kill_the_next_plain_Deploy_finishes_the_deployment_exactly_as_an_uninterrupted_one(KillPoint point, DeploymentState left)
    {
        await using var scenario = await PrepareAsync();

        await KillAtAsync(scenario, point);

        Assert.Equal(left, scenario.Records.Journal.State);
        var status = await scenario.RunAsync("Status");
        Assert.Contains(StateMachine.NextCommand(left, "0.1", "0.2", BuildRoot.Environment), status.Output);

        var recovery = await scenario.DeployAsync("0.2");
        recovery.AssertExitCode(0);
        await AssertAsAfterAsync(scenario, recovery);
    }

    [Theory]
    [InlineData(KillPoint.MaintenanceOn)]
    [InlineData(KillPoint.AfterMaintenanceOn)]
    [InlineData(KillPoint.Backup)]
    [InlineData(KillPoint.Migrate)]
    [InlineData(KillPoint.Verify)]
    public async Task After_a_kill_before_anything_committed_a_plain_Rollback_brings_back_the_database_as_before_without_a_restore(KillPoint point)
    {
        await using var scenario = await PrepareAsync();
        var before = await scenario.DumpAsync();

        await KillAtAsync(scenario, point);

        var rollback = await scenario.RunAsync("Rollback", "--confirm-database", scenario.Database.Name);
        rollback.AssertExitCode(0);
        DumpAssert.Identical(before, await scenario.DumpAsync());
        Assert.Equal(DeploymentState.RolledBack, scenario.Records.Journal.State);
        Assert.Equal(RollbackMode.Undo, scenario.Records.Journal.Rollback);
        await AssertNothingLeftOverAsync(scenario, rollback);

        // Undone means undone: the same deployment runs from the start again.
        var again = await scenario.DeployAsync("0.2");
        again.AssertExitCode(0);
        await AssertAsAfterAsync(scenario, again);
    }

    [Fact]
    public async Task A_second_kill_during_the_recovery_is_recovered_the_same_way()
    {
        await using var scenario = await PrepareAsync();

        await KillAtAsync(scenario, KillPoint.Backup);
        await KillAtAsync(scenario, KillPoint.Migrate);
        Assert.Equal(DeploymentState.Applying, scenario.Records.Journal.State);

        var recovery = await scenario.DeployAsync("0.2");
        recovery.AssertExitCode(0);
        await AssertAsAfterAsync(scenario, recovery);
    }

    /// <summary>
    /// Committed and verified but never restarted (the run asked for Verify only): the disk holds exactly what a kill between
    /// Verify and Restart leaves (the journal at Committed, the fence up, the application stopped), since nothing else happens
    /// between the two.
    /// </summary>
    [Fact]
    public async Task A_deployment_stopped_after_its_commit_is_finished_by_Deploy_with_Restart_and_not_rolled_back()
    {
        await using var scenario = await PrepareAsync();

        var stopped = await scenario.RunAsync("Verify", "--version", "0.2");
        stopped.AssertExitCode(0);
        Assert.True(scenario.Records.Journal.State == DeploymentState.Committed, $"{scenario.Records.Journal.State}:{Environment.NewLine}{stopped.Output}");
        Assert.False(await scenario.App.CanLogInAsync(), "Committed but not restarted, the fence stays up until Restart.");

        var refused = await scenario.RunAsync("MaintenanceOff");
        refused.AssertExitCode(2);
        Assert.Contains("Restart lifts the fence and starts it", refused.Output);

        var harbors = scenario.BackupFiles();
        var recovery = await scenario.DeployAsync("0.2");
        recovery.AssertExitCode(0);
        Assert.Contains("done already", recovery.Output);
        Assert.Equal(harbors, scenario.BackupFiles());
        await AssertAsAfterAsync(scenario, recovery);
    }

    [Fact]
    public async Task A_rollback_killed_twice_in_its_revert_hook_is_finished_by_the_next_plain_Rollback()
    {
        await using var scenario = await PrepareAsync();
        await scenario.ConfigureAsync(scenario.Settings with { RevertHook = true });
        var before = await scenario.DumpAsync();

        for (var attempt = 0; attempt < 2; attempt++)
        {
            scenario.HoldHook("revert");
            var reverts = scenario.HookLog().Count(line => line.StartsWith("revert", StringComparison.Ordinal));
            using var build = attempt == 0
                ? await BuildProgram.StartAsync(scenario.Root, scenario.Launch, "Deploy", "--version", "0.2", "--inject-failure", "Migrate")
                : await BuildProgram.StartAsync(scenario.Root, scenario.Launch, "Rollback", "--confirm-database", scenario.Database.Name);
            await WaitUntilAsync(build, "the revert hook runs", () => Task.FromResult(
                scenario.HookLog().Count(line => line.StartsWith("revert", StringComparison.Ordinal)) > reverts));
            await build.KillAsync();
            scenario.ReleaseHooks();
            Assert.Equal(DeploymentState.RollingBack, scenario.Records.Journal.State);
        }

        var rollback = await scenario.RunAsync("Rollback", "--confirm-database", scenario.Database.Name);
        rollback.AssertExitCode(0);
        Assert.Contains("finishing the rollback an earlier run began", scenario.Records.Journal.Events.Select(entry => entry.Message));
        Assert.Equal(DeploymentState.RolledBack, scenario.Records.Journal.State);
        DumpAssert.Identical(before, await scenario.DumpAsync());
        await AssertNothingLeftOverAsync(scenario, rollback);
    }

    /// <summary>Case 4 of issue 8: the half-filled restore database a killed Rollback leaves is dropped and made again.</summary>
    [Fact]
    public async Task A_rollback_killed_while_it_restores_the_safe_harbor_is_finished_by_the_next_plain_Rollback()
    {
        await using var scenario = await PrepareAsync(commitPoint: true);
        var before = await scenario.Database.DumpAsync("--exclude-schema=pgdeploy");

        using (var build = await BuildProgram.StartAsync(scenario.Root, scenario.Launch, "Deploy", "--version", "0.2"))
        {
            await using (await HoldRestoreAsync(scenario))
            {
                await WaitForHeldRestoreAsync(scenario, build);
                await build.KillAsync();
            }
        }

        Assert.Equal(DeploymentState.RollingBack, scenario.Records.Journal.State);
        Assert.Equal(RollbackMode.Restore, scenario.Records.Journal.Rollback);
        var rollback = await scenario.RunAsync("Rollback", "--confirm-database", scenario.Database.Name);
        rollback.AssertExitCode(0);
        await AssertRestoredAsync(scenario, rollback, before);
    }

    /// <summary>
    /// The repository's own school migrations, whose 0.4 hashes every password in C# (PostProcess) at the real Argon2 cost: the
    /// run is killed while it hashes, inside the transaction that Migrate began, and a plain Deploy then does the whole version.
    /// </summary>
    [Fact]
    public async Task After_a_kill_during_PostProcess_the_next_plain_Deploy_applies_the_whole_version_once()
    {
        using var root = new BuildRoot();
        var database = await TestDatabase.CreateAsync(postgres);
        var launch = SchoolSample.Launch(database, "owasp");
        await SchoolSample.DeployAtV03Async(root, launch, database, users: 400);
        var before = await database.DumpAsync();

        // Without Precompute, every password is hashed inside the window, where the kill lands.
        using (var build = await BuildProgram.StartAsync(root, launch, "Deploy", "--version", "0.4", "--skip", "Precompute"))
        {
            await WaitUntilAsync(build, "PostProcess hashes passwords", () => Task.FromResult(build.Output.Contains("Argon2 profile: owasp", StringComparison.Ordinal)));
            await build.KillAsync();
        }

        Assert.Equal(DeploymentState.Applying, new DeploymentRecords(root.Directory, database.Name).Journal.State);
        DumpAssert.Identical(before, await database.DumpAsync());

        var cheap = SchoolSample.Launch(database);
        var recovery = await DeploymentScenario.RunInAsync(root, cheap, "Deploy", "--version", "0.4");
        recovery.AssertExitCode(0);
        Assert.Equal(new AppVersion(0, 4), await database.CurrentVersionAsync());
        var applied = (await database.HistoryAsync()).Where(row => row.Success && row.Version == "0.4").Select(row => row.Name).ToList();
        Assert.Equal(Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "migrations", "v0.4")).Select(Path.GetFileName).Order(StringComparer.Ordinal), applied.Order(StringComparer.Ordinal));
        Assert.Equal(400, await database.ScalarAsync<long>("SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$%'"));
        Assert.Equal(DeploymentState.Completed, new DeploymentRecords(root.Directory, database.Name).Journal.State);
        Assert.True(await database.DeploymentLockIsFreeAsync());
    }

    /// <summary>Case 14 of issue 8: the server crashes and restarts while Migrate waits inside the upgrade's transaction.</summary>
    [Fact]
    public async Task A_server_crash_during_Migrate_is_undone_the_fence_lifted_and_a_rerun_deploys()
    {
        await using var cluster = await LocalCluster.StartTemporaryAsync();
        await using var scenario = await PrepareAsync(PostgresFixture.Over(cluster.ConnectionString()));

        BuildRun failed;
        using (var build = await BuildProgram.StartAsync(scenario.Root, scenario.Launch, "Deploy", "--version", "0.2"))
        await using (await HoldAdvisoryLockAsync(scenario, MigrateGate))
        {
            await WaitForLockWaitAsync(scenario, build, "advisory");
            await CrashAndRestartAsync(cluster);
            failed = await BuildRun.EndOfAsync(build, "Deploy --version 0.2", TimeSpan.FromMinutes(2));
        }

        failed.AssertExitCode(1);
        Assert.DoesNotMatch(@"(?m)(Failed|failed:?)\s+NpgsqlTransaction\s*$", failed.Output);
        Assert.Contains("v0.2/015_gate.sql at line 1 failed: the connection to the server was lost", failed.Output);
        Assert.Contains("Nothing of this deployment is committed", failed.Output);
        Assert.Equal(DeploymentState.RolledBack, scenario.Records.Journal.State);
        Assert.True(await scenario.App.CanLogInAsync(), $"Nothing was committed, so the fence must come down:{Environment.NewLine}{failed.Output}");

        var rerun = await scenario.DeployAsync("0.2");
        rerun.AssertExitCode(0);
        await AssertAsAfterAsync(scenario, rerun);
    }

    /// <summary>Case 14 of issue 8: the server crashes and restarts while a Rollback restores the safe harbor.</summary>
    [Fact]
    public async Task A_server_crash_during_the_restore_of_a_Rollback_is_finished_by_the_next_plain_Rollback()
    {
        await using var cluster = await LocalCluster.StartTemporaryAsync();
        await using var scenario = await PrepareAsync(PostgresFixture.Over(cluster.ConnectionString()), commitPoint: true);
        var before = await scenario.Database.DumpAsync("--exclude-schema=pgdeploy");

        BuildRun failed;
        using (var build = await BuildProgram.StartAsync(scenario.Root, scenario.Launch, "Deploy", "--version", "0.2"))
        {
            await using (await HoldRestoreAsync(scenario))
            {
                await WaitForHeldRestoreAsync(scenario, build);
                await CrashAndRestartAsync(cluster);
            }

            failed = await BuildRun.EndOfAsync(build, "Deploy --version 0.2", TimeSpan.FromMinutes(2));
        }

        // Either the rollback saw the crash and stopped for a person, or it got through after the restart by itself.
        Assert.True(failed.ExitCode is 1 or 3, $"exit {failed.ExitCode}:{Environment.NewLine}{failed.Output}");
        Assert.DoesNotMatch(@"(?m)(Failed|failed:?)\s+NpgsqlTransaction\s*$", failed.Output);
        if (failed.ExitCode == 3)
        {
            Assert.Contains($"./build.sh Rollback --target-env {BuildRoot.Environment}", failed.Output);
            Assert.Equal(DeploymentState.RollingBack, scenario.Records.Journal.State);
            var rollback = await scenario.RunAsync("Rollback", "--confirm-database", scenario.Database.Name);
            rollback.AssertExitCode(0);
            failed = rollback;
        }

        await AssertRestoredAsync(scenario, failed, before);
    }

    /// <summary>
    /// backup.mode clone+dump: killed after the window, while DumpClone's pg_dump waits for a table the test holds in the clone. The
    /// application runs on the new version meanwhile and cannot reach the clone; the next plain Deploy takes the dump again, verifies
    /// it and drops the clone.
    /// </summary>
    [Fact]
    public async Task A_kill_during_the_dump_of_the_clone_is_finished_by_the_next_plain_Deploy_with_a_verified_dump_and_the_clone_dropped()
    {
        await using var scenario = await PrepareAsync(backupMode: "clone+dump");
        scenario.HoldHook("start");
        NpgsqlConnection? held = null;
        string clone;
        try
        {
            using var build = await BuildProgram.StartAsync(scenario.Root, scenario.Launch, "Deploy", "--version", "0.2");
            await WaitUntilAsync(build, "the start hook runs", () => Task.FromResult(scenario.HookLog().Any(line => line.StartsWith("start", StringComparison.Ordinal))));
            clone = scenario.Records.Journal.Clone!.Name;
            held = await HoldTableInCloneAsync(scenario, clone, "notes");
            scenario.ReleaseHooks();
            await WaitUntilAsync(build, "the dump of the clone waits for a table", async () => await scenario.Database.ScalarAsync<bool>(
                "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = @clone AND wait_event_type = 'Lock' AND application_name <> 'kill-test-holder')",
                new { clone }));
            await build.KillAsync();
        }
        finally
        {
            scenario.ReleaseHooks();
            if (held is not null)
                await held.DisposeAsync();
        }

        Assert.Equal(DeploymentState.Dumping, scenario.Records.Journal.State);
        Assert.True(await scenario.App.CanLogInAsync(), "The window is over: the new version runs while the clone is dumped.");
        var intoClone = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(scenario.App.ConnectionString) { Database = clone }.ConnectionString);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => intoClone.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        var status = await scenario.RunAsync("Status");
        Assert.Contains(StateMachine.NextCommand(DeploymentState.Dumping, "0.1", "0.2", BuildRoot.Environment), status.Output);

        var recovery = await scenario.DeployAsync("0.2");
        recovery.AssertExitCode(0);
        await AssertAsAfterAsync(scenario, recovery);
        var journal = scenario.Records.Journal;
        Assert.True(journal.Clone!.Gone);
        var harbor = PgDeploy.Safety.SafeHarbor.Load(journal.SafeHarbor!, "");
        Assert.Equal(journal.Clone.RowCounts, harbor.Manifest.RowCounts);
    }

    /// <summary>
    /// The school at 0.1 (with a student the application enrolled), a table without constraints that only pg_dump waits for,
    /// and gates in 0.2 that do nothing unless the test holds their advisory lock: a script in Migrate and a verify query.
    /// <paramref name="commitPoint"/> adds a no-transaction script, which commits what came before it, and a script after it that fails;
    /// and, for the restore that follows, an index whose expression waits while the test holds the restore (see HoldRestoreAsync).
    /// The safe harbor is dumped inside the fence (backup.mode dump), which the kill points in Backup and in the restore need, unless
    /// <paramref name="backupMode"/> says otherwise.
    /// </summary>
    private async Task<DeploymentScenario> PrepareAsync(PostgresFixture? server = null, bool commitPoint = false, string backupMode = "dump")
    {
        var scenario = await DeploymentScenario.CreateAsync(server ?? postgres);
        try
        {
            await scenario.ConfigureAsync(scenario.Settings with { BackupMode = backupMode });
            scenario.Root.Migrations.Script("0.2", "015_gate.sql", $"SELECT pg_advisory_xact_lock({MigrateGate});\n");
            scenario.Root.Migrations.Script("0.2", "verify/gate.sql", $"SELECT 1 WHERE pg_advisory_xact_lock({VerifyGate})::text = 'never'\n");
            if (commitPoint)
            {
                scenario.Root.Migrations.Script("0.2", "025_index_emails.sql",
                    "-- deploy:no-transaction\nCREATE INDEX CONCURRENTLY student_emails_lower_email ON student_emails (lower(email));\n");
                scenario.Root.Migrations.Script("0.2", "040_fails_after_the_commit_point.sql", "SELECT 1 / 0;\n");
            }

            await scenario.PrepareAtV01Async();
            await scenario.Database.ExecuteAsync("CREATE TABLE notes (body text); INSERT INTO notes SELECT 'note ' || g FROM generate_series(1, 20000) AS g");
            if (commitPoint)
            {
                // pg_restore builds this index in the new database, where the test cannot hold a lock beforehand; so the expression
                // waits on something every database sees: a session of the test's with this application name.
                await scenario.Database.ExecuteAsync($"""
                    CREATE FUNCTION restore_gate(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
                    BEGIN
                        WHILE EXISTS (SELECT FROM pg_stat_activity WHERE application_name = '{RestoreGateHolder}') LOOP
                            PERFORM pg_sleep(0.05);
                            PERFORM pg_stat_clear_snapshot();
                        END LOOP;
                        RETURN i;
                    END $$;
                    CREATE TABLE gated (id int);
                    INSERT INTO gated VALUES (1);
                    CREATE INDEX gated_gate ON gated (restore_gate(id));
                    """);
            }

            File.Delete(scenario.HookLogPath);
            return scenario;
        }
        catch
        {
            await scenario.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts Deploy 0.2, holds it at <paramref name="point"/>, kills it, and lets go of what held it.</summary>
    private async Task KillAtAsync(DeploymentScenario scenario, KillPoint point)
    {
        if (point is KillPoint.AfterMaintenanceOn)
        {
            (await scenario.RunAsync("MaintenanceOn", "--version", "0.2")).AssertExitCode(0);
            return;
        }

        var hooksBefore = scenario.HookLog().Count;
        IAsyncDisposable? held = point switch
        {
            KillPoint.Backup => await HoldTableLockAsync(scenario, "notes"),
            KillPoint.Migrate => await HoldAdvisoryLockAsync(scenario, MigrateGate),
            KillPoint.Verify => await HoldAdvisoryLockAsync(scenario, VerifyGate),
            _ => null,
        };
        if (point is KillPoint.MaintenanceOn)
            scenario.HoldHook("stop");
        if (point is KillPoint.Restart)
            scenario.HoldHook("start");

        try
        {
            using var build = await BuildProgram.StartAsync(scenario.Root, scenario.Launch, "Deploy", "--version", "0.2");
            switch (point)
            {
                case KillPoint.MaintenanceOn or KillPoint.Restart:
                    var hook = point == KillPoint.MaintenanceOn ? "stop" : "start";
                    await WaitUntilAsync(build, $"the {hook} hook runs", () => Task.FromResult(
                        scenario.HookLog().Skip(hooksBefore).Any(line => line.StartsWith(hook, StringComparison.Ordinal))));
                    break;
                case KillPoint.Backup:
                    await WaitForLockWaitAsync(scenario, build, "relation");
                    break;
                default:
                    await WaitForLockWaitAsync(scenario, build, "advisory");
                    break;
            }

            await build.KillAsync();
            output.WriteLine($"Killed at {point}; the journal says {scenario.Records.Journal.State}.");
        }
        finally
        {
            scenario.ReleaseHooks();
            if (held is not null)
                await held.DisposeAsync();
        }
    }

    /// <summary>The upgraded database, compared with what an uninterrupted deployment of the same release makes.</summary>
    private async Task AssertAsAfterAsync(DeploymentScenario scenario, BuildRun run)
    {
        DumpAssert.Identical(await UninterruptedAsync(), await scenario.Database.DumpAsync(AsAfter));
        Assert.Equal(new AppVersion(0, 2), await scenario.Database.CurrentVersionAsync());
        var applied = (await scenario.Database.HistoryAsync()).Where(row => row.Success && row.Version == "0.2").Select(row => row.Name).ToList();
        Assert.Equal(applied.Distinct().Order(StringComparer.Ordinal), applied.Order(StringComparer.Ordinal));
        Assert.Equal(["010_split_names.sql", "015_gate.sql", "020_student_emails.sql", "030_grade_points.sql"], applied.Order(StringComparer.Ordinal));
        Assert.Equal(DeploymentState.Completed, scenario.Records.Journal.State);

        // Every row is there, reshaped: the three students 0.1 made with two grades each, the one the application enrolled, an e-mail each.
        Assert.Equal(4, await scenario.Database.ScalarAsync<long>("SELECT count(*) FROM students"));
        Assert.Equal(6, await scenario.Database.ScalarAsync<long>("SELECT count(*) FROM grades"));
        Assert.Equal(4, await scenario.Database.ScalarAsync<long>("SELECT count(*) FROM student_emails"));
        Assert.Equal(20000, await scenario.Database.ScalarAsync<long>("SELECT count(*) FROM notes"));
        Assert.Equal(
            ["Ada|Lovelace", "Alan|Turing", "Grace|Brewster Hopper", "Katherine|Coleman Johnson"],
            await scenario.Database.QueryAsync<string>("SELECT first_name || '|' || last_name FROM students ORDER BY id"));
        Assert.Equal(await scenario.Database.ScalarAsync<int>("SELECT max(id) FROM students"),
            await scenario.Database.ScalarAsync<int>("SELECT last_value FROM students_id_seq"));
        Assert.Contains("start app-can-log-in", scenario.HookLog());
        await AssertNothingLeftOverAsync(scenario, run);
    }

    /// <summary>The application's schema and data, without what differs between two databases by design: owners and grants name each test's roles.</summary>
    private static readonly string[] AsAfter = ["--schema=public", "--no-owner", "--no-privileges"];

    private static readonly SemaphoreSlim ReferenceGate = new(1, 1);
    private static string? reference;

    /// <summary>The same database after Deploy 0.2 ran without a kill: made once, the first time a test needs it.</summary>
    private async Task<string> UninterruptedAsync()
    {
        await ReferenceGate.WaitAsync();
        try
        {
            if (reference is null)
            {
                await using var uninterrupted = await PrepareAsync();
                (await uninterrupted.DeployAsync("0.2")).AssertExitCode(0);
                reference = await uninterrupted.Database.DumpAsync(AsAfter);
            }

            return reference;
        }
        finally
        {
            ReferenceGate.Release();
        }
    }

    /// <summary>The safe harbor is back under the database's name, this run's failure kept in its history, the fence lifted.</summary>
    private static async Task AssertRestoredAsync(DeploymentScenario scenario, BuildRun run, string before)
    {
        DumpAssert.Identical(before, await scenario.Database.DumpAsync("--exclude-schema=pgdeploy"));
        Assert.Equal(new AppVersion(0, 1), await scenario.Database.CurrentVersionAsync());
        Assert.Contains(await scenario.Database.HistoryAsync(), row => !row.Success && row.RunId == scenario.Records.Journal.RunId);
        Assert.Equal(DeploymentState.RolledBack, scenario.Records.Journal.State);
        Assert.Equal([scenario.FailedDatabaseName(scenario.Records.Journal.RunId)], await scenario.DatabasesBesideAsync());
        Assert.True(await scenario.App.CanLogInAsync(), $"The rollback is finished, so the fence must be lifted:{Environment.NewLine}{run.Output}");
        Assert.True(await scenario.Database.DeploymentLockIsFreeAsync());
        Assert.DoesNotContain(scenario.BackupFiles(), file => file.Contains(".partial", StringComparison.Ordinal));
    }

    private static async Task AssertNothingLeftOverAsync(DeploymentScenario scenario, BuildRun run)
    {
        Assert.True(await scenario.App.CanLogInAsync(), $"`{run.Command}` left the fence up:{Environment.NewLine}{run.Output}");
        Assert.Empty(await scenario.DatabasesBesideAsync());
        Assert.True(await scenario.Database.DeploymentLockIsFreeAsync());
        Assert.DoesNotContain(scenario.BackupFiles(), file => file.Contains(".partial", StringComparison.Ordinal));
    }

    private static async Task CrashAndRestartAsync(LocalCluster cluster)
    {
        await cluster.StopAsync();
        await cluster.StartAsync();
        // The test's own idle connections died with the server.
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>While this session is open, pg_restore waits in the gated index of the restore database.</summary>
    private static async Task<IAsyncDisposable> HoldRestoreAsync(DeploymentScenario scenario) => await OpenUnpooledAsync(scenario, RestoreGateHolder);

    private static Task WaitForHeldRestoreAsync(DeploymentScenario scenario, BuildProcess build) =>
        WaitUntilAsync(build, "the restore waits in the gated index", async () => await scenario.Database.ScalarAsync<bool>(
            "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE starts_with(datname, @restoring) AND query LIKE '%gated_gate%')",
            new { restoring = $"{scenario.Database.Name}__restore_" }));

    private static async Task<IAsyncDisposable> HoldAdvisoryLockAsync(DeploymentScenario scenario, long key)
    {
        var connection = await OpenUnpooledAsync(scenario);
        await using var command = new NpgsqlCommand($"SELECT pg_advisory_lock({key})", connection);
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    /// <summary>An open transaction with an ACCESS EXCLUSIVE lock on <paramref name="table"/>: every reader of it waits.</summary>
    private static async Task<IAsyncDisposable> HoldTableLockAsync(DeploymentScenario scenario, string table)
    {
        var connection = await OpenUnpooledAsync(scenario);
        await using var command = new NpgsqlCommand($"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", connection);
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    /// <summary>The fixture's superuser opens the clone (made with connections off) and locks <paramref name="table"/> in it.</summary>
    private static async Task<NpgsqlConnection> HoldTableInCloneAsync(DeploymentScenario scenario, string clone, string table)
    {
        await scenario.Database.ExecuteAsync($"ALTER DATABASE {DatabaseAdmin.QuoteIdentifier(clone)} ALLOW_CONNECTIONS true");
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(scenario.Database.ConnectionString)
            { Database = clone, Pooling = false, ApplicationName = "kill-test-holder" }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", connection);
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    /// <summary>Not pooled: closing it ends the session, and its locks with it, at once.</summary>
    private static async Task<NpgsqlConnection> OpenUnpooledAsync(DeploymentScenario scenario, string applicationName = "kill-test-holder")
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(scenario.Database.ConnectionString) { Pooling = false, ApplicationName = applicationName }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Waits until a session of the build program waits for a lock of kind <paramref name="lockType"/> in the test database.</summary>
    private static Task WaitForLockWaitAsync(DeploymentScenario scenario, BuildProcess build, string lockType) =>
        WaitUntilAsync(build, $"a session waits for a {lockType} lock", async () => await scenario.Database.ScalarAsync<bool>(
            "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = @lockType AND application_name <> 'kill-test-holder')",
            new { lockType }));

    private static async Task WaitUntilAsync(BuildProcess build, string what, Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (build.HasExited)
                Assert.Fail($"The build program ended before {what}:{Environment.NewLine}{build.Output}");
            if (clock.Elapsed > HeldWithin)
                Assert.Fail($"Not within {HeldWithin}: {what}.{Environment.NewLine}{build.Output}");
            await Task.Delay(20);
        }
    }
}
