using Migrations.V0_4;
using Npgsql;
using PgDeploy.Migrations;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Migrations;

[Collection(PostgresCollection.Name)]
public sealed class UpgradeTests(PostgresFixture postgres)
{
    private static readonly AppVersion V02 = new(0, 2);
    private static readonly AppVersion V03 = new(0, 3);
    private static readonly AppVersion V04 = new(0, 4);

    [Fact]
    public async Task Upgrade_from_0_3_to_0_4_runs_the_scripts_and_the_batched_csharp_step_and_records_each_in_history()
    {
        using var migrations = SchoolMigrations.UpTo("0.4");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.3");
        var historyBefore = await database.HistoryAsync();

        var upgrade = await Deployment.RunAsync(database, migrations, "0.4");

        Assert.Equal(V03, upgrade.Plan.CurrentVersion);
        Assert.Equal([V04], upgrade.Plan.PendingVersions);
        Assert.Equal(
            [("010_add_display_name.sql", UpgradePhase.Migrate), ("020_FillDisplayNames.cs", UpgradePhase.PostProcess), ("030_require_display_name.sql", UpgradePhase.PostProcess)],
            upgrade.Plan.Steps.Select(planned => (planned.Step.FileName, planned.Phase)));

        // The C# step filled every row, batch by batch (3000 rows, 500 a batch), and the script after it made the column NOT NULL.
        Assert.Equal("NO", await database.ScalarAsync<string>(
            "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'students' AND column_name = 'display_name'"));
        Assert.True(await database.TableExistsAsync("students_display_name_idx"));
        var students = await database.QueryAsync<(string FirstName, string LastName, string DisplayName)>(
            "SELECT first_name, last_name, display_name FROM students ORDER BY id");
        Assert.Equal(SchoolMigrations.StudentCount, students.Count);
        Assert.All(students, student => Assert.Equal(FillDisplayNames.DisplayName(student.FirstName, student.LastName), student.DisplayName));
        Assert.Equal("LAST2999, First2999", students[2998].DisplayName);

        var history = await database.HistoryAsync();
        var added = history.Skip(historyBefore.Count).ToList();
        Assert.Equal(historyBefore, history.Take(historyBefore.Count));
        Assert.Equal(SchoolMigrations.V04Steps, added.Select(row => row.Name));
        Assert.Equal(["sql", "csharp", "sql"], added.Select(row => row.Kind));
        Assert.Equal(SchoolMigrations.V04Steps.Select(name => migrations.ChecksumOf("0.4", name)), added.Select(row => row.Checksum));
        Assert.Equal(Enumerable.Range(historyBefore.Count + 1, 3), added.Select(row => row.InstalledRank));
        var appliedBy = $"{Environment.UserName}@{Environment.MachineName} as {new NpgsqlConnectionStringBuilder(database.ConnectionString).Username}";
        Assert.All(added, row =>
        {
            Assert.Equal("0.4", row.Version);
            Assert.True(row.Success);
            Assert.Equal(upgrade.RunId, row.RunId);
            Assert.True(row.DurationMs >= 0);
            Assert.Equal(appliedBy, row.AppliedBy);
            Assert.Null(row.ErrorSqlState);
            Assert.Null(row.ErrorStatement);
            Assert.Null(row.ErrorMessage);
        });

        Assert.Equal(V04, UpgradePlanner.CurrentVersion(history));
        var status = await UpgradeStatus.ReadAsync(database.ConnectionString, migrations.Catalog(), CancellationToken.None);
        Assert.Equal("0.4", status.CurrentVersion);
        Assert.Empty(status.PendingSteps);
        Assert.Empty(status.Problems);
        Assert.Null(status.LockHolder);
    }

    [Fact]
    public async Task A_rerun_at_the_version_the_database_is_at_plans_nothing_says_so_and_changes_nothing()
    {
        using var migrations = SchoolMigrations.UpTo("0.4");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.4");
        var historyBefore = await database.HistoryAsync();
        var dumpBefore = await database.DumpAsync();

        var rerun = await Deployment.RunAsync(database, migrations, "0.4");

        Assert.True(rerun.Plan.IsEmpty);
        Assert.Equal(V04, rerun.Plan.CurrentVersion);
        Assert.Equal("The database is at 0.4: nothing to do for --version 0.4.", rerun.Plan.Describe());
        Assert.Equal(historyBefore, await database.HistoryAsync());
        DumpAssert.Identical(dumpBefore, await database.DumpAsync());
    }

    [Fact]
    public async Task Upgrade_from_0_2_to_0_4_applies_0_3_then_0_4_in_order_in_one_run()
    {
        using var migrations = SchoolMigrations.UpTo("0.4");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.2");
        var historyBefore = await database.HistoryAsync();

        var upgrade = await Deployment.RunAsync(database, migrations, "0.4");

        Assert.Equal(V02, upgrade.Plan.CurrentVersion);
        Assert.Equal([V03, V04], upgrade.Plan.PendingVersions);
        // Earlier versions run completely in Migrate; only the target version's steps from its first C# step on are PostProcess.
        Assert.Equal(
            [UpgradePhase.Migrate, UpgradePhase.Migrate, UpgradePhase.Migrate, UpgradePhase.PostProcess, UpgradePhase.PostProcess],
            upgrade.Plan.Steps.Select(planned => planned.Phase));

        var added = (await database.HistoryAsync()).Skip(historyBefore.Count).ToList();
        Assert.Equal(
            ["v0.3/010_create_courses.sql", "v0.3/020_create_enrolments.sql", "v0.4/010_add_display_name.sql", "v0.4/020_FillDisplayNames.cs", "v0.4/030_require_display_name.sql"],
            added.Select(row => $"v{row.Version}/{row.Name}"));
        Assert.All(added, row => Assert.Equal(upgrade.RunId, row.RunId));
        Assert.All(added, row => Assert.True(row.Success));
        Assert.Equal(added.OrderBy(row => row.AppliedAt).ThenBy(row => row.InstalledRank), added);
        Assert.Equal(V04, await database.CurrentVersionAsync());
        // Each student is enrolled in exactly one of the three courses.
        Assert.Equal(SchoolMigrations.StudentCount, await database.ScalarAsync<long>("SELECT count(*) FROM enrolments"));
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM students WHERE display_name IS NULL"));
    }
}
