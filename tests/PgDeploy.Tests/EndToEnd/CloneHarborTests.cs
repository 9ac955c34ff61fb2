using System.Runtime.Versioning;
using Npgsql;
using PgDeploy.Deployments;
using PgDeploy.Postgres;
using PgDeploy.Safety;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// backup.mode clone+dump: inside the fence the database is cloned (CREATE DATABASE … TEMPLATE), which is the safe harbor until
/// DumpClone, after Restart, dumps the clone, verifies the dump and drops the clone. A rollback while the clone is there swaps it
/// in by name instead of restoring a dump. The kill during DumpClone is in KillRecoveryTests.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class CloneHarborTests(PostgresFixture postgres)
{
    /// <summary>
    /// What lives on the database object rather than in it, which a swap must carry over from the original to the clone; the
    /// privileges as they apply (a null datacl spelled out as the defaults it stands for).
    /// </summary>
    private const string DatabaseObject =
        """
        SELECT concat_ws(' | ', pg_get_userbyid(d.datdba), coalesce(d.datacl, acldefault('d', d.datdba))::text, d.datconnlimit, d.datallowconn, shobj_description(d.oid, 'pg_database'),
               (SELECT string_agg(coalesce(r.rolname, '*') || ':' || array_to_string(s.setconfig, ','), '; ' ORDER BY r.rolname NULLS FIRST)
                FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole WHERE s.setdatabase = d.oid))
        FROM pg_database d WHERE d.datname = current_database()
        """;

    /// <param name="dumpDuringUpgrade">The clone was being dumped beside the upgrade: the rollback stops that first.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failure_at_Verify_after_a_commit_point_swaps_the_clone_in_and_the_database_is_as_before_with_its_settings_grants_and_comment(bool dumpDuringUpgrade)
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.ConfigureAsync(scenario.Settings with { BackupMode = "clone+dump", DumpCloneDuringUpgrade = dumpDuringUpgrade });
        // A commit point makes the safe harbor necessary; the single name makes Verify fail after it.
        scenario.Root.Migrations.Script("0.2", "025_index_emails.sql",
            "-- deploy:no-transaction\nCREATE INDEX CONCURRENTLY student_emails_lower_email ON student_emails (lower(email));\n");
        await scenario.PrepareAtV01Async(alsoEnrolSingleName: true);
        var database = DatabaseAdmin.QuoteIdentifier(scenario.Database.Name);
        await scenario.Database.ExecuteAsync($"""
            ALTER DATABASE {database} SET work_mem = '8MB';
            ALTER ROLE {DatabaseAdmin.QuoteIdentifier(scenario.App.Name)} IN DATABASE {database} SET statement_timeout = '5s';
            ALTER DATABASE {database} CONNECTION LIMIT 40;
            REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC;
            COMMENT ON DATABASE {database} IS 'school records';
            """);
        var before = await scenario.Database.DumpAsync("--exclude-schema=pgdeploy");
        var historyBefore = await scenario.Database.HistoryAsync();
        var objectBefore = await scenario.Database.ScalarAsync<string>(DatabaseObject);
        var backupsBefore = scenario.BackupFiles();

        var run = await scenario.DeployAsync("0.2");

        run.AssertExitCode(1);
        Assert.Equal("Failed: Verify Failed; Rollback Succeeded.", scenario.Records.Outcome());
        var journal = scenario.Records.Journal;
        Assert.Equal(RollbackMode.Swap, journal.Rollback);
        Assert.Equal(DeploymentState.RolledBack, journal.State);
        Assert.Contains($"swapped the safe harbor's clone {scenario.Database.Name}__harbor_{journal.RunId} in", run.Output);
        // The database is the one from before the deploy, its history too (a failed verification is no step of it).
        DumpAssert.Identical(before, await scenario.Database.DumpAsync("--exclude-schema=pgdeploy"));
        Assert.Equal(historyBefore, await scenario.Database.HistoryAsync());
        Assert.Equal(objectBefore, await scenario.Database.ScalarAsync<string>(DatabaseObject));
        // The clone was the safe harbor, and it is the database now; the upgraded one is kept for forensics. No dump was needed: none was
        // taken after the window, and one taken beside the upgrade is whole or gone.
        if (dumpDuringUpgrade)
            Assert.DoesNotContain(scenario.BackupFiles(), file => file.Contains(".partial", StringComparison.Ordinal));
        else
            Assert.Equal(backupsBefore, scenario.BackupFiles());
        Assert.Equal([scenario.FailedDatabaseName(journal.RunId)], await scenario.DatabasesBesideAsync());
        Assert.True(await scenario.App.CanLogInAsync(), $"The rollback is finished, so the fence must be lifted:{Environment.NewLine}{run.Output}");
        var maxId = await scenario.Database.ScalarAsync<int>("SELECT max(id) FROM students");
        Assert.Equal(maxId + 1, await scenario.App.EnrolAtV01Async("Dorothy Vaughan"));
    }

    /// <param name="dumpDuringUpgrade">backup.dumpCloneDuringUpgrade: the dump is taken beside the upgrade, inside the window, and DumpClone takes it over.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_successful_deploy_dumps_the_clone_verifies_the_dump_drops_the_clone_and_the_dump_restores_the_database_as_before(bool dumpDuringUpgrade)
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.ConfigureAsync(scenario.Settings with { BackupMode = "clone+dump", DumpCloneDuringUpgrade = dumpDuringUpgrade });
        await scenario.PrepareAtV01Async();
        var before = await scenario.DumpAsync();

        var run = await scenario.DeployAsync("0.2");

        run.AssertExitCode(0);
        var statuses = scenario.Records.TargetStatuses();
        Assert.Equal("Succeeded", statuses["Restart"]);
        Assert.Equal("Succeeded", statuses["DumpClone"]);
        var journal = scenario.Records.Journal;
        Assert.Equal(DeploymentState.Completed, journal.State);
        var clone = journal.Clone!;
        Assert.Equal($"{scenario.Database.Name}__harbor_{journal.RunId}", clone.Name);
        Assert.True(clone.Gone);
        Assert.Empty(await scenario.DatabasesBesideAsync());

        // The dump is the database's own safe harbor, taken from the clone (after the window, or beside the upgrade inside it), with the
        // rows counted when the clone was made.
        var harbor = SafeHarbor.Load(journal.SafeHarbor!, "");
        Assert.Equal(scenario.Database.Name, harbor.Manifest.Database);
        Assert.Equal(journal.RunId, harbor.Manifest.RunId);
        Assert.True(harbor.Manifest.StartedUtc > journal.FenceLiftedAt!.Value.UtcDateTime != dumpDuringUpgrade,
            $"The dump began at {harbor.Manifest.StartedUtc:O}, and the fence was lifted at {journal.FenceLiftedAt:O}.");
        Assert.Equal(dumpDuringUpgrade, run.Output.Contains("beside the upgrade", StringComparison.Ordinal));
        Assert.Equal(clone.RowCounts, harbor.Manifest.RowCounts);
        Assert.Equal(4, harbor.Manifest.RowCounts.Single(count => count.Name == "students").Rows);
        Assert.Equal(journal.FenceRaisedAt, harbor.Manifest.Provenance!.FenceRaisedAt);

        // Restored by a rollback by hand (the clone is gone, so from the dump), it is the database exactly as before the deploy.
        var rollback = await scenario.RunAsync("Rollback", "--confirm-database", scenario.Database.Name, "--discard-writes-since-restart");
        rollback.AssertExitCode(3);
        Assert.Equal(RollbackMode.Restore, scenario.Records.Journal.Rollback);
        DumpAssert.Identical(before, await scenario.DumpAsync());
    }

    [Fact]
    public async Task A_session_of_another_role_on_the_database_stops_the_clone_naming_it_and_the_deployment_is_undone()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.ConfigureAsync(scenario.Settings with { BackupMode = "clone+dump" });
        await scenario.PrepareAtV01Async();
        var before = await scenario.DumpAsync();

        BuildRun run;
        await using (await scenario.Database.OpenAsync("nightly-report"))
        {
            run = await scenario.DeployAsync("0.2");
        }

        run.AssertExitCode(1);
        Assert.Equal("Failed: Backup Failed; Rollback Succeeded.", scenario.Records.Outcome());
        Assert.Contains($"Database '{scenario.Database.Name}' could not be cloned into the safe harbor '{scenario.Database.Name}__harbor_", run.Output);
        Assert.Matches(@"Still connected: pid \d+ on \S+ \(user \S+, 'nightly-report', from ", run.Output);
        Assert.Contains("or set backup.mode to dump", run.Output);
        Assert.Equal(RollbackMode.Undo, scenario.Records.Journal.Rollback);
        DumpAssert.Identical(before, await scenario.DumpAsync());
        Assert.Empty(await scenario.DatabasesBesideAsync());
        Assert.True(await scenario.App.CanLogInAsync(), run.Output);
    }

    /// <summary>
    /// Left to the tool, the clone gives way to a session the fence does not end: Prerequisites names it before the fence, and Backup
    /// dumps inside the fence instead of rolling the deployment back.
    /// </summary>
    [Fact]
    public async Task A_session_of_another_role_is_named_before_the_fence_and_the_default_mode_dumps_inside_it_instead_of_failing()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();

        BuildRun run;
        await using (await scenario.Database.OpenAsync("nightly-report"))
        {
            run = await scenario.DeployAsync("0.2");
        }

        run.AssertExitCode(0);
        Assert.Matches(@"safe harbor mode: clone\+dump: .*; connected now and not fenced: pid \d+ \(user \S+, 'nightly-report', from [^)]+\); still there at Backup, " +
                       "they keep the clone from starting, and the safe harbor is dumped inside the fence instead", run.Output);
        Assert.Contains("The safe harbor is dumped inside the fence instead of cloned: the database has sessions the fence does not end (pid ", run.Output);
        var journal = scenario.Records.Journal;
        Assert.NotNull(journal.SafeHarbor);
        Assert.True(journal.Clone is null or { Gone: true });
        Assert.Empty(await scenario.DatabasesBesideAsync());
        Assert.Equal(new PgDeploy.Migrations.AppVersion(0, 2), await scenario.Database.CurrentVersionAsync());
    }

    /// <summary>
    /// A runner that is no superuser and lacks pg_read_all_settings cannot see the server's data directory, as for a server on another
    /// machine, so it cannot tell whether the copy fits: stated clone+dump is taken at the operator's word (and this least-privileged
    /// runner clones, dumps the clone and drops it), and left to the tool it is a dump inside the fence, with the reason.
    /// </summary>
    [Theory]
    [InlineData("clone+dump")]
    [InlineData(null)]
    public async Task Where_the_servers_disk_cannot_be_seen_stated_clone_dump_is_taken_at_its_word_and_the_default_falls_back_to_dump(string? mode)
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres, dedicatedRunnerPassword: "runner-secret", superuser: false);
        await scenario.PrepareAtV01Async();
        await scenario.ConfigureAsync(scenario.Settings with { BackupMode = mode });

        var deployed = await scenario.DeployAsync("0.2");

        deployed.AssertExitCode(0);
        var journal = scenario.Records.Journal;
        if (mode is null)
        {
            Assert.Contains("The safe harbor is dumped inside the fence, not cloned: the server's data directory cannot be seen from here", deployed.Output);
            Assert.Null(journal.Clone);
        }
        else
        {
            Assert.Contains("safe harbor mode: clone+dump: stated in 'ci', and the server's data directory cannot be seen from here", deployed.Output);
            Assert.True(journal.Clone is { Gone: true }, deployed.Output);
        }

        Assert.True(File.Exists(journal.SafeHarbor), deployed.Output);
        Assert.Empty(await scenario.DatabasesBesideAsync());
    }

    [Fact]
    public async Task With_keepClone_the_clone_stays_out_of_the_applications_reach_and_a_rollback_by_hand_swaps_it_in_instead_of_restoring()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.ConfigureAsync(scenario.Settings with { BackupMode = "clone+dump", KeepClone = true });
        await scenario.PrepareAtV01Async();
        var before = await scenario.DumpAsync();
        var objectBefore = await scenario.Database.ScalarAsync<string>(DatabaseObject);

        (await scenario.DeployAsync("0.2")).AssertExitCode(0);

        var journal = scenario.Records.Journal;
        Assert.Equal(DeploymentState.Completed, journal.State);
        Assert.False(journal.Clone!.Gone);
        Assert.True(File.Exists(journal.SafeHarbor));
        Assert.Equal([journal.Clone.Name], await scenario.DatabasesBesideAsync());
        var intoClone = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(scenario.App.ConnectionString) { Database = journal.Clone.Name }.ConnectionString);
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(() => intoClone.OpenAsync())).SqlState);

        var rollback = await scenario.RunAsync("Rollback", "--confirm-database", scenario.Database.Name, "--discard-writes-since-restart");

        rollback.AssertExitCode(3);
        Assert.Equal(RollbackMode.Swap, scenario.Records.Journal.Rollback);
        DumpAssert.Identical(before, await scenario.DumpAsync());
        (await scenario.RunAsync("MaintenanceOff")).AssertExitCode(0);
        // The clone had connections allowed and CONNECT revoked for its dump: the swap gave it back the original's defaults.
        Assert.Equal(objectBefore, await scenario.Database.ScalarAsync<string>(DatabaseObject));
        Assert.True(await scenario.App.CanLogInAsync());
        Assert.Equal([scenario.FailedDatabaseName(journal.RunId)], await scenario.DatabasesBesideAsync());
    }
}
