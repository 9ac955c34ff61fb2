using System.Runtime.Versioning;
using System.Security.Cryptography;
using PgDeploy.Deployments;
using PgDeploy.Safety;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// The cases of issue 8 that went wrong around the upgrade's transaction (journal, fence, safe harbor, lock), each through
/// the real build program against a real database: every run ends "as before" or "as after", says so, and the next plain
/// command finishes or undoes the job.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class IssueCaseTests(PostgresFixture postgres)
{
    /// <summary>A script that fails on a duplicate key (grade_scale is made by 0.2's 030_grade_points.sql).</summary>
    private const string DuplicateGrade = "INSERT INTO grade_scale VALUES ('A', 9.5);\n";

    /// <summary>Case 1 of issue 8: a safe harbor of an older state, given with --backup-file, would lose what was written since.</summary>
    [Fact]
    public async Task A_safe_harbor_of_an_older_state_given_with_backup_file_is_refused_before_anything_changes()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        // Deploy 0.1 took it of the empty database; 0.1 and the application's writes came after it.
        var older = scenario.Records.Journal.SafeHarbor!;
        var before = await scenario.SnapshotAsync();

        var run = await scenario.DeployAsync("0.2", "--backup-file", older);

        DeploymentScenario.AssertRefusedInPrerequisites(run, "given safe harbor");
        Assert.Contains($"The given safe harbor {older} cannot be this deployment's: the database's applied history has changed since it was taken", run.Output);
        Assert.Contains("Leave out --backup-file, and the deployment takes a fresh safe harbor inside its fence; nothing was changed.", run.Output);
        await scenario.AssertUnchangedAsync(before, run);

        (await scenario.DeployAsync("0.2")).AssertExitCode(0);
        Assert.Equal(["Katherine Coleman Johnson"], await scenario.Database.QueryAsync<string>("SELECT first_name || ' ' || last_name FROM students WHERE first_name = 'Katherine'"));
    }

    /// <summary>Case 2 of issue 8: MaintenanceOff and Rollback by hand take the deployment lock, so they cannot lift the fence under a running upgrade.</summary>
    [Fact]
    public async Task MaintenanceOff_and_Rollback_while_a_deploy_runs_in_another_process_are_refused_naming_it_and_lift_nothing()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        await scenario.ConfigureAsync(scenario.Settings with { DeploymentLockWait = "1s" });
        var database = scenario.Database.Name;
        var gate = $"open gate {database}";
        // Holds the deploy inside Migrate, fenced and with the lock, until the test opens a session named after the gate.
        scenario.Root.Migrations.Script("0.2", "015_wait_at_gate.sql", """
            DO $$
            BEGIN
                FOR i IN 1..1200 LOOP
                    -- Inside a transaction pg_stat_activity is read once, unless its snapshot is cleared.
                    PERFORM pg_stat_clear_snapshot();
                    EXIT WHEN EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'open gate ' || current_database());
                    PERFORM pg_sleep(0.05);
                END LOOP;
            END $$;
            """);

        var deploying = scenario.DeployAsync("0.2");
        string runId;
        try
        {
            await WaitUntilAsync(deploying, () => scenario.Database.ScalarAsync<bool>(
                "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE query LIKE '%open gate%' AND pid <> pg_backend_pid())"));
            runId = scenario.Records.Journal.RunId;
            Assert.False(await scenario.App.CanLogInAsync());

            var lift = await scenario.RunAsync("MaintenanceOff");
            var rollback = await scenario.RunAsync("Rollback", "--confirm-database", database);

            foreach (var refused in new[] { lift, rollback })
            {
                refused.AssertExitCode(2);
                Assert.Contains($"Another run holds the deployment lock of database '{database}': pid ", refused.Output);
                Assert.Contains($"('pgdeploy lock {runId}'", refused.Output);
                Assert.Contains("nothing was changed", refused.Output);
            }

            Assert.False(await scenario.App.CanLogInAsync(), $"MaintenanceOff lifted the fence under a running upgrade:{Environment.NewLine}{lift.Output}");
        }
        finally
        {
            // Whatever failed above, the deploy is let through and ends before the scenario is disposed.
            await using var opened = await scenario.Database.OpenAsync(gate);
            await deploying;
        }

        (await deploying).AssertExitCode(0);
        Assert.Equal(DeploymentState.Completed, scenario.Records.Journal.State);
        Assert.Equal(runId, scenario.Records.Journal.RunId);
        Assert.True(await scenario.App.CanLogInAsync());
        Assert.Empty(await scenario.DatabasesBesideAsync());
    }

    /// <summary>Case 3 of issue 8: Baseline and Plan start no deployment, so the documented first steps, Baseline then Deploy, work.</summary>
    [Fact]
    public async Task Baseline_and_Plan_start_no_deployment_and_leave_the_last_journal_as_it_was_and_Deploy_after_Baseline_works()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        // 0.1 was applied by other means: its scripts run by hand, so there is no pgdeploy history.
        foreach (var script in new[] { "010_create_students.sql", "020_create_grades.sql" })
        {
            await scenario.Database.ExecuteAsync(File.ReadAllText(scenario.Root.Migrations.PathOf("0.1", script)));
        }

        (await scenario.RunAsync("Baseline", "--version", "0.1")).AssertExitCode(0);
        (await scenario.RunAsync("Plan", "--version", "0.2")).AssertExitCode(0);
        Assert.Empty(scenario.Records.Files());

        (await scenario.DeployAsync("0.2")).AssertExitCode(0);
        Assert.Equal(DeploymentState.Completed, scenario.Records.Journal.State);
        Assert.Equal("0.2", (await scenario.Database.CurrentVersionAsync())?.ToString());
        var afterDeploy = await scenario.SnapshotAsync();

        var plan = await scenario.RunAsync("Plan", "--version", "0.2");
        plan.AssertExitCode(0);
        await scenario.AssertUnchangedAsync(afterDeploy, plan);
        var baseline = await scenario.RunAsync("Baseline", "--version", "0.2");
        baseline.AssertExitCode(2);
        Assert.Contains("Baseline only adopts a database without history; nothing was changed.", baseline.Output);
        await scenario.AssertUnchangedAsync(afterDeploy, baseline);
    }

    /// <summary>Case 5 of issue 8: a Backup that fails after the fence went up ends with the fence lifted, and says so.</summary>
    [Fact]
    public async Task A_failed_Backup_ends_with_exit_1_the_fence_lifted_and_the_database_as_before_and_the_next_Deploy_finishes()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        // After Prerequisites found it writable, the backup directory becomes a file: no dump can be written there (dumped in Backup).
        await scenario.ConfigureAsync(scenario.Settings with
        {
            BackupMode = "dump",
            HookCommands = new Dictionary<string, string> { ["stop"] = "mv backups backups.away && touch backups" },
        });
        File.Delete(scenario.HookLogPath);
        var dumpBefore = await scenario.DumpAsync();

        var run = await scenario.DeployAsync("0.2");

        run.AssertExitCode(1);
        Assert.Equal("Failed: Backup Failed; Rollback Succeeded.", scenario.Records.Outcome());
        Assert.Contains($"'{scenario.BackupDirectory}'", run.Output);
        Assert.Contains($"Lifted the write fence raised on database '{scenario.Database.Name}'", run.Output);
        Assert.Contains("nothing was committed; the database is as it was before deployment", run.Output);
        Assert.Contains("no revert hook is set: start the application at 0.1 again", run.Output);
        Assert.True(await scenario.App.CanLogInAsync(), $"A failed Backup left the fence up:{Environment.NewLine}{run.Output}");
        var journal = scenario.Records.Journal;
        Assert.Equal(DeploymentState.RolledBack, journal.State);
        Assert.Equal(RollbackMode.Undo, journal.Rollback);
        DumpAssert.Identical(dumpBefore, await scenario.DumpAsync());
        Assert.Empty(await scenario.DatabasesBesideAsync());

        File.Delete(scenario.BackupDirectory);
        Directory.Move(Path.Combine(scenario.Root.Directory, "backups.away"), scenario.BackupDirectory);
        await scenario.ConfigureAsync(scenario.Settings with { HookCommands = new Dictionary<string, string>() });
        (await scenario.DeployAsync("0.2")).AssertExitCode(0);
        Assert.Equal(DeploymentState.Completed, scenario.Records.Journal.State);
    }

    /// <summary>Case 6 of issue 8: a refused re-run keeps the failed deployment's journal and safe harbor, so Rollback still finds them.</summary>
    [Fact]
    public async Task A_refused_rerun_after_a_failed_deploy_keeps_its_journal_and_safe_harbor_and_Rollback_then_restores_it()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        var beforeDeploy = await scenario.DumpAsync();
        // The new version does not start: Restart fails after the upgrade is committed, and a person must decide.
        // The safe harbor is a dump from Backup on, which the rollback restores (a clone would be swapped in: CloneHarborTests).
        await scenario.ConfigureAsync(scenario.Settings with
        {
            BackupMode = "dump", RevertHook = true, HookCommands = new Dictionary<string, string> { ["start"] = "exit 1" },
        });
        var restart = await scenario.DeployAsync("0.2");
        restart.AssertExitCode(3);
        Assert.Contains("./build.sh Rollback --target-env ci --discard-writes-since-restart restores the safe harbor", restart.Output);
        var failed = scenario.Records.Journal;
        Assert.Equal(DeploymentState.Restarting, failed.State);
        Assert.True(File.Exists(failed.SafeHarbor));
        var afterFailure = await scenario.SnapshotAsync();
        var database = scenario.Database.Name;

        var rerun = await scenario.DeployAsync("0.1");

        rerun.AssertExitCode(2);
        Assert.Contains($"Deployment {failed.RunId} of database '{database}' (0.1 -> 0.2) is restarting the application, so this step is refused: another version's deployment is unfinished.", rerun.Output);
        Assert.Contains("Next: ./build.sh Deploy --version 0.2 --target-env ci finishes it with Restart. Nothing was changed.", rerun.Output);
        await scenario.AssertUnchangedAsync(afterFailure, rerun);

        var rollback = await scenario.RunAsync("Rollback", "--confirm-database", database, "--discard-writes-since-restart");

        rollback.AssertExitCode(0);
        Assert.Contains($"restored {database} from {Path.GetFileName(failed.SafeHarbor)}", rollback.Output);
        var journal = scenario.Records.Journal;
        Assert.Equal(failed.RunId, journal.RunId);
        Assert.Equal(DeploymentState.RolledBack, journal.State);
        Assert.Equal(RollbackMode.Restore, journal.Rollback);
        DumpAssert.Identical(beforeDeploy, await scenario.DumpAsync());
        Assert.True(await scenario.App.CanLogInAsync(), rollback.Output);
        Assert.Equal([scenario.FailedDatabaseName(failed.RunId)], await scenario.DatabasesBesideAsync());
    }

    /// <summary>Case 7 of issue 8: orphan rows make a safe harbor that pg_restore cannot load; they are refused before the fence.</summary>
    [Fact]
    public async Task Orphan_rows_written_past_a_foreign_key_are_refused_in_Prerequisites_naming_the_constraint_and_rows_and_nothing_changes()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        scenario.Root.Migrations.Script("0.2", "015_index_courses.sql", "-- deploy:no-transaction\nCREATE INDEX CONCURRENTLY grades_course_idx ON grades (course);\n");
        await scenario.Database.ExecuteAsync("""
            SET session_replication_role = replica;
            INSERT INTO grades (student_id, course, grade) VALUES (999, 'Chemistry', 70);
            """);
        var before = await scenario.SnapshotAsync();

        var run = await scenario.DeployAsync("0.2");

        DeploymentScenario.AssertRefusedInPrerequisites(run, "constraints hold");
        Assert.Contains("foreign key grades_student_id_fkey on grades: 1 row", run.Output);
        Assert.Contains("(student_id=999)", run.Output);
        Assert.Contains("DELETE FROM \"public\".\"grades\"", run.Output);
        await scenario.AssertUnchangedAsync(before, run);

        await scenario.Database.ExecuteAsync("DELETE FROM grades WHERE student_id = 999");
        (await scenario.DeployAsync("0.2")).AssertExitCode(0);
        Assert.Equal(DeploymentState.Completed, scenario.Records.Journal.State);
    }

    /// <summary>Case 8 of issue 8: a runner that is no superuser (owner of its database; CREATEDB, CREATEROLE, pg_signal_backend) deploys, and restores its safe harbor.</summary>
    [Fact]
    public async Task A_least_privilege_runner_deploys_and_after_a_commit_point_and_a_failure_restores_the_database_as_before()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)), superuser: false);
        await scenario.PrepareAtV01Async();
        (await scenario.DeployAsync("0.2")).AssertExitCode(0);
        await scenario.App.EnrolAtV02Async("Mary", "Jackson");
        scenario.Root.Migrations.Script("0.3", "010_index_last_names.sql", "-- deploy:no-transaction\nCREATE INDEX CONCURRENTLY students_last_name_idx ON students (last_name);\n");
        scenario.Root.Migrations.Script("0.3", "020_grade_a_plus.sql", DuplicateGrade);
        var dumpBefore = await scenario.Database.DumpAsync();
        var historyBefore = await scenario.Database.HistoryAsync();

        var run = await scenario.DeployAsync("0.3");

        run.AssertExitCode(1);
        Assert.Contains("Committed: v0.3/010_index_last_names.sql (commit points); not committed: v0.3/020_grade_a_plus.sql; Rollback restores the safe harbor.", run.Output);
        var journal = scenario.Records.Journal;
        Assert.Equal(DeploymentState.RolledBack, journal.State);
        Assert.Equal(RollbackMode.Restore, journal.Rollback);
        Assert.True(await scenario.App.CanLogInAsync(), run.Output);
        // The schema and data without pgdeploy's own tables are as before; the history also keeps this run's failure.
        DumpAssert.Identical(dumpBefore, await scenario.Database.DumpAsync());
        var history = await scenario.Database.HistoryAsync();
        Assert.Equal(historyBefore.Select(row => (row.Version, row.Name, row.RunId)), history.Where(row => row.Success).Select(row => (row.Version, row.Name, row.RunId)));
        Assert.Equal([("0.3", "020_grade_a_plus.sql", journal.RunId)], history.Where(row => !row.Success).Select(row => (row.Version, row.Name, row.RunId)));
        Assert.Equal([scenario.FailedDatabaseName(journal.RunId)], await scenario.DatabasesBesideAsync());
    }

    /// <summary>Case 9 of issue 8: --inject-failure in production is refused before anything changes, not inside a real production deploy.</summary>
    [Fact]
    public async Task Inject_failure_in_a_production_environment_is_refused_before_anything_changes()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        await scenario.ConfigureAsync(scenario.Settings with { Production = true });
        var before = await scenario.SnapshotAsync();

        var run = await scenario.DeployAsync("0.2", "--yes", "--inject-failure", "Migrate");

        DeploymentScenario.AssertRefusedInPrerequisites(run);
        Assert.Contains("--inject-failure is refused for 'ci', a production environment: it would make a real production deployment fail on purpose. Leave it out; nothing was changed.", run.Output);
        await scenario.AssertUnchangedAsync(before, run);

        (await scenario.DeployAsync("0.2", "--yes")).AssertExitCode(0);
        Assert.Equal(DeploymentState.Completed, scenario.Records.Journal.State);
    }

    /// <summary>Case 10 of issue 8: a script that fails with nothing committed is undone without a restore, and a fixed re-run deploys.</summary>
    [Fact]
    public async Task A_failing_script_with_nothing_committed_is_undone_without_a_restore_and_a_fixed_rerun_deploys()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        scenario.Root.Migrations.Script("0.2", "040_grade_a_plus.sql", DuplicateGrade);
        File.Delete(scenario.HookLogPath);
        var dumpBefore = await scenario.Database.DumpAsync();
        var historyBefore = await scenario.Database.HistoryAsync();

        var run = await scenario.DeployAsync("0.2");

        run.AssertExitCode(1);
        Assert.Contains("Nothing of this deployment is committed: the database is as it was before it.", run.Output);
        Assert.Contains("without a restore", run.Output);
        Assert.Contains("no revert hook is set: start the application at 0.1 again", run.Output);
        Assert.DoesNotContain("REVERT THE APPLICATION CODE", run.Output);
        var journal = scenario.Records.Journal;
        Assert.Equal(DeploymentState.RolledBack, journal.State);
        Assert.Equal(RollbackMode.Undo, journal.Rollback);
        Assert.True(await scenario.App.CanLogInAsync(), run.Output);
        Assert.Empty(await scenario.DatabasesBesideAsync());
        Assert.Equal(["stop app-can-log-in"], scenario.HookLog());
        // No restore: the failure stays in the live history beside the rows that were there.
        DumpAssert.Identical(dumpBefore, await scenario.Database.DumpAsync());
        var history = await scenario.Database.HistoryAsync();
        Assert.Equal(historyBefore.Select(row => row.InstalledRank), history.Where(row => row.Success).Select(row => row.InstalledRank));
        Assert.Equal([("040_grade_a_plus.sql", journal.RunId)], history.Where(row => !row.Success).Select(row => (row.Name, row.RunId)));

        scenario.Root.Migrations.Script("0.2", "040_grade_a_plus.sql", "UPDATE grade_scale SET min_points = 9.5 WHERE letter = 'A';\n");
        (await scenario.DeployAsync("0.2")).AssertExitCode(0);
        Assert.Equal(DeploymentState.Completed, scenario.Records.Journal.State);
        Assert.Equal("0.2", (await scenario.Database.CurrentVersionAsync())?.ToString());
    }

    /// <summary>Case 11 of issue 8: a retried CI job deploys the version the database is at already, and that is a success.</summary>
    [Fact]
    public async Task Deploy_of_the_version_the_database_is_at_exits_0_with_nothing_to_deploy_and_changes_nothing()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        var before = await scenario.SnapshotAsync();

        var run = await scenario.DeployAsync("0.1");

        run.AssertExitCode(0);
        Assert.Contains($"database {scenario.Database.Name} is at 0.1: nothing to deploy", run.Output);
        await scenario.AssertUnchangedAsync(before, run);
    }

    /// <summary>Case 12 of issue 8: the journal is keyed by the database, so two databases of one environment deploy at once without hiding each other's records.</summary>
    [Fact]
    public async Task Two_databases_of_one_environment_deployed_at_once_each_keep_their_own_journal_and_safe_harbor()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        var other = await TestDatabase.CreateAsync(postgres);
        // Tenants of one environment, without application hooks or fence: only the deployments' own records meet.
        scenario.Root.WriteEnvironment("""{ "production": false, "backup": { "directory": "backups" } }""");
        var otherRecords = new DeploymentRecords(scenario.Root.Directory, other.Name);

        var runs = await Task.WhenAll(
            scenario.DeployAsync("0.1"),
            scenario.RunAsync(scenario.Launch with { ConnectionString = other.ConnectionString }, "Deploy", "--version", "0.1"));

        Assert.All(runs, run => run.AssertExitCode(0));
        Assert.NotEqual(scenario.Records.JournalPath, otherRecords.JournalPath);
        foreach (var (records, database) in new[] { (scenario.Records, scenario.Database), (otherRecords, other) })
        {
            var journal = records.Journal;
            Assert.Equal(database.Name, journal.Database.Database);
            Assert.Equal(DeploymentState.Completed, journal.State);
            Assert.Equal(database.Name, SafeHarbor.Load(journal.SafeHarbor!, "the test reads it").Manifest.Database);
            Assert.Equal("0.1", (await database.CurrentVersionAsync())?.ToString());
        }

        Assert.NotEqual(scenario.Records.Journal.SafeHarbor, otherRecords.Journal.SafeHarbor);
    }

    /// <summary>Case 13 of issue 8: hooks know the versions, so a revert hook starts the version the database went back to.</summary>
    [Fact]
    public async Task A_failed_deploys_hooks_get_the_from_and_to_versions_and_the_revert_hook_starts_the_previous_one()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        scenario.Root.Migrations.Script("0.2", "040_grade_a_plus.sql", DuplicateGrade);
        const string versions = "from=$DEPLOY_FROM_VERSION to=$DEPLOY_TO_VERSION app=$DEPLOY_APP_VERSION";
        await scenario.ConfigureAsync(scenario.Settings with
        {
            RevertHook = true,
            HookCommands = new Dictionary<string, string>
            {
                ["stop"] = $"echo \"stop {versions}\" >> '{scenario.HookLogPath}'",
                // Like the sample's revert hook: it starts the version it is told, and fails for any other.
                ["revert"] = $"echo \"revert {versions}\" >> '{scenario.HookLogPath}' && test \"$DEPLOY_APP_VERSION\" = 0.1",
            },
        });
        File.Delete(scenario.HookLogPath);
        var dumpBefore = await scenario.Database.DumpAsync();

        var run = await scenario.DeployAsync("0.2");

        run.AssertExitCode(1);
        Assert.Equal(
            ["stop app-can-log-in", "stop from=0.1 to=0.2 app=0.1", "revert app-can-log-in", "revert from=0.1 to=0.2 app=0.1"],
            scenario.HookLog());
        Assert.Contains("the revert hook started the application at 0.1 again", run.Output);
        Assert.Equal(DeploymentState.RolledBack, scenario.Records.Journal.State);
        Assert.True(await scenario.App.CanLogInAsync(), run.Output);
        Assert.Empty(await scenario.DatabasesBesideAsync());
        DumpAssert.Identical(dumpBefore, await scenario.Database.DumpAsync());
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails if <paramref name="run"/> ends first or 60 s pass.</summary>
    private static async Task WaitUntilAsync(Task<BuildRun> run, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (run.IsCompleted)
            {
                Assert.Fail($"The deploy ended before the test could act on it:{Environment.NewLine}{(await run).Output}");
            }

            Assert.True(DateTime.UtcNow < deadline, "The deploy did not reach the point the test waits for within 60 s.");
            await Task.Delay(100);
        }
    }
}
