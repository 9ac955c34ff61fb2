using System.Runtime.Versioning;
using PgDeploy.Deployments;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// A team with a live database that never saw this tool: Init writes its schema as the first version, Baseline adopts the
/// live database at that version after saying what it records, and an empty database of a new environment gets the same
/// schema from Deploy.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class AdoptionTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Init_writes_the_live_schema_Baseline_adopts_the_database_and_a_new_environment_is_built_from_it()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        // The live database was built by other means: 0.1 and 0.2 by hand, and no pgdeploy history.
        foreach (var (version, script) in new[] { ("0.1", "010_create_students.sql"), ("0.1", "020_create_grades.sql"), ("0.2", "010_split_names.sql") })
        {
            await scenario.Database.ExecuteAsync(File.ReadAllText(scenario.Root.Migrations.PathOf(version, script)));
        }

        var migrations = Path.Combine(scenario.Root.Directory, "adopted");
        var adopted = scenario.Launch with { MigrationsDirectory = migrations };
        var live = await scenario.DumpAsync();

        var init = await scenario.RunAsync(adopted, "Init", "--from-database");

        init.AssertExitCode(0);
        var schema = File.ReadAllText(Path.Combine(migrations, "v0.1", "000_schema.sql"));
        Assert.Contains("CREATE TABLE public.students", schema);
        Assert.Contains("last_name text NOT NULL", schema);
        Assert.DoesNotContain(@"\restrict", schema);
        Assert.DoesNotContain("OWNER TO", schema);
        Assert.DoesNotContain("pgdeploy", schema.Split('\n').Where(line => !line.StartsWith("--", StringComparison.Ordinal)));
        Assert.Contains("./build.sh Baseline --version 0.1", init.Output);
        var again = await scenario.RunAsync(adopted, "Init", "--from-database");
        again.AssertExitCode(2);
        Assert.Contains("already holds migrations: Init writes a version's first script only into a new folder", again.Output);

        var unknown = await scenario.RunAsync(adopted, "Baseline", "--version", "0.2");
        unknown.AssertExitCode(2);
        Assert.Contains("--version 0.2 has no folder v0.2 in", unknown.Output);
        Assert.Contains("The folders are v0.1;", unknown.Output);
        DumpAssert.Identical(live, await scenario.DumpAsync());

        var baseline = await scenario.RunAsync(adopted, "Baseline", "--version", "0.1");

        baseline.AssertExitCode(0);
        Assert.Contains($"Baseline: database '{scenario.Database.Name}' has 2 table(s) and no deployment history. Recording in pgdeploy.history: version 0.1 (script 'baseline'", baseline.Output);
        Assert.Contains("nothing else changes. Deploy then runs nothing until a later version's folder is written", baseline.Output);
        Assert.Equal("0.1", (await scenario.Database.CurrentVersionAsync())?.ToString());
        DumpAssert.Identical(live, await scenario.Database.DumpAsync(), "dump without the history");
        var upToDate = await scenario.RunAsync(adopted, "Deploy", "--version", "0.1");
        upToDate.AssertExitCode(0);
        Assert.Contains($"database {scenario.Database.Name} is at 0.1: nothing to deploy", upToDate.Output);

        // A new environment: an empty database gets the live schema from the adopted migrations.
        var fresh = await TestDatabase.CreateAsync(postgres);
        var build = await scenario.RunAsync(adopted with { ConnectionString = fresh.ConnectionString }, "Deploy", "--version", "0.1");

        build.AssertExitCode(0);
        Assert.Equal("0.1", (await fresh.CurrentVersionAsync())?.ToString());
        string[] schemaOnly = ["--schema-only", "--no-owner", "--no-privileges"];
        DumpAssert.Identical(await scenario.Database.DumpAsync(schemaOnly), await fresh.DumpAsync(schemaOnly), "schema of the new environment");
    }
}
