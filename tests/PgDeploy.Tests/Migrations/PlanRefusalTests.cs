using Dapper;
using PgDeploy.Migrations;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Migrations;

/// <summary>Planning refuses, before any step runs, when the migrations folder and the database's history disagree.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PlanRefusalTests(PostgresFixture postgres)
{
    private const string Refused = "The migrations cannot be applied; nothing was changed.";

    [Fact]
    public async Task An_applied_script_edited_afterwards_is_refused_naming_the_file_and_both_checksums_and_nothing_of_the_next_version_runs()
    {
        using var migrations = SchoolMigrations.UpTo("0.3");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.3");
        var appliedChecksum = migrations.ChecksumOf("0.3", "020_create_enrolments.sql");
        var edited = File.ReadAllText(migrations.PathOf("0.3", "020_create_enrolments.sql")) + "CREATE INDEX enrolments_course_idx ON enrolments (course_id);\n";
        migrations.Script("0.3", "020_create_enrolments.sql", edited);
        SchoolMigrations.AddV04(migrations);

        var message = await AssertRefusedBeforeAnythingRunsAsync(database, migrations, "0.4");

        Assert.Contains("v0.3/020_create_enrolments.sql was edited after it was applied", message);
        Assert.Contains($"the history records sha256 {appliedChecksum}, the file now has {Checksum.Of(edited)}", message);
        Assert.NotEqual(appliedChecksum, Checksum.Of(edited));
        Assert.False(await database.ColumnExistsAsync("students", "display_name"));
        Assert.DoesNotContain(await database.HistoryAsync(), row => row.Version == "0.4");
    }

    [Theory]
    [InlineData("0.3", "015_add_course_codes.sql")]
    [InlineData("0.2", "030_add_student_codes.sql")]
    [InlineData("0.3", "900_appended_after_the_last_step.sql")]
    public async Task A_script_added_later_to_an_already_applied_version_is_refused(string version, string fileName)
    {
        using var migrations = SchoolMigrations.UpTo("0.4");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.3");
        migrations.Script(version, fileName, "CREATE TABLE added_later (id int);\n");

        var message = await AssertRefusedBeforeAnythingRunsAsync(database, migrations, "0.4");

        Assert.Contains($"v{version}/{fileName} is not applied, but v{version} already is", message);
        Assert.Contains("Move that work into a new version", message);
        Assert.False(await database.TableExistsAsync("added_later"));
    }

    [Fact]
    public async Task A_missing_applied_script_is_refused()
    {
        using var migrations = SchoolMigrations.UpTo("0.4");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.3");
        migrations.Delete("0.3", "020_create_enrolments.sql");

        var message = await AssertRefusedBeforeAnythingRunsAsync(database, migrations, "0.4");

        Assert.Contains($"v0.3/020_create_enrolments.sql was applied on", message);
        Assert.Contains($"but is missing from {migrations.Directory}. Restore it from version control", message);
    }

    [Fact]
    public async Task An_unknown_target_version_is_refused_listing_the_versions_there_are()
    {
        using var migrations = SchoolMigrations.UpTo("0.4");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.2");

        var message = await AssertRefusedBeforeAnythingRunsAsync(database, migrations, "0.9");

        Assert.Contains($"--version 0.9: there is no folder v0.9 in {migrations.Directory}; the versions there are 0.2, 0.3, 0.4.", message);
    }

    [Fact]
    public async Task A_target_older_than_the_database_is_refused_because_migrations_only_go_forward()
    {
        using var migrations = SchoolMigrations.UpTo("0.4");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.4");

        var message = await AssertRefusedBeforeAnythingRunsAsync(database, migrations, "0.3");

        Assert.Contains("--version 0.3: the database is already at 0.4, which is newer. Migrations only go forward", message);
    }

    [Fact]
    public async Task A_database_with_tables_but_no_history_is_refused_until_baselined_and_then_only_the_newer_version_runs()
    {
        using var migrations = SchoolMigrations.UpTo("0.4");
        var database = await TestDatabase.CreateAsync(postgres);
        // Deployed by other means: the 0.2 and 0.3 scripts were run by hand, so there is no pgdeploy.history.
        await using (var connection = await database.OpenAsync())
        {
            foreach (var script in migrations.Catalog().Versions.Where(folder => folder.Version < new AppVersion(0, 4)).SelectMany(folder => folder.Steps))
            {
                await connection.ExecuteAsync(File.ReadAllText(migrations.PathOf(script.Version.ToString(), script.FileName)));
            }
        }

        var refusal = await Assert.ThrowsAsync<DeploymentRefusedException>(() => Deployment.RunAsync(database, migrations, "0.4"));

        Assert.Contains($"Database '{database.Name}' has tables but no deployment history (pgdeploy.history)", refusal.Message);
        Assert.Contains("Adopt it first with ./build.sh Baseline --version <the version it is at>; nothing was changed.", refusal.Message);
        Assert.False(await database.TableExistsAsync("pgdeploy.history"));
        Assert.False(await database.ColumnExistsAsync("students", "display_name"));

        var baselineRun = Deployment.NewRunId();
        await Baseline.MarkAsync(database.ConnectionString, migrations.Catalog(), new AppVersion(0, 3), baselineRun, Deployment.Settings, CancellationToken.None);
        var upgrade = await Deployment.RunAsync(database, migrations, "0.4");

        Assert.Equal(new AppVersion(0, 3), upgrade.Plan.CurrentVersion);
        Assert.Equal([new AppVersion(0, 4)], upgrade.Plan.PendingVersions);
        var history = await database.HistoryAsync();
        Assert.Equal(
            [("0.3", "baseline", "baseline", baselineRun), .. SchoolMigrations.V04Steps.Select(name => ("0.4", name, name.EndsWith(".cs") ? "csharp" : "sql", upgrade.RunId))],
            history.Select(row => (row.Version, row.Name, row.Kind, row.RunId)));
        Assert.All(history, row => Assert.True(row.Success));
        Assert.Equal(new AppVersion(0, 4), await database.CurrentVersionAsync());
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM students WHERE display_name IS NULL"));
    }

    /// <summary>Deploys to <paramref name="target"/>, expects the planner's refusal, and checks that neither the schema, the data nor the history changed.</summary>
    private static async Task<string> AssertRefusedBeforeAnythingRunsAsync(TestDatabase database, MigrationFolder migrations, string target)
    {
        var historyBefore = await database.HistoryAsync();
        var dumpBefore = await database.DumpAsync();

        var refusal = await Assert.ThrowsAsync<DeploymentRefusedException>(() => Deployment.RunAsync(database, migrations, target));

        Assert.StartsWith(Refused, refusal.Message);
        Assert.Equal(historyBefore, await database.HistoryAsync());
        DumpAssert.Identical(dumpBefore, await database.DumpAsync());
        Assert.True(await database.DeploymentLockIsFreeAsync());
        return refusal.Message;
    }
}
