using System.Diagnostics;
using Npgsql;
using PgDeploy.Migrations;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;
using Xunit.Abstractions;

namespace PgDeploy.Tests.Migrations;

/// <summary>
/// The build program is killed with SIGKILL in the middle of a long script: no handler of it runs, so only the server can
/// undo the work. It notices the dead client thanks to client_connection_check_interval, which the runner sets.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KilledRunnerTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan ServerNoticesWithin = TimeSpan.FromSeconds(10);

    /// <summary>The killed runner's sessions in this database: the one in pg_sleep, and any other of its upgrade or lock sessions.</summary>
    private const string RunnerSessions = "datname = current_database() AND (pid = @sleeper OR application_name LIKE 'pgdeploy %')";

    private const string LongReshape = """
        -- Reshapes courses; the sleep stands for a long data migration.
        ALTER TABLE courses ADD COLUMN credits int NOT NULL DEFAULT 5;
        CREATE TABLE rooms (id serial PRIMARY KEY, name text NOT NULL);
        CREATE INDEX courses_title_idx ON courses (title);
        SELECT pg_sleep(60);
        """;

    [Fact]
    public async Task A_runner_killed_during_a_long_script_leaves_the_database_as_before_and_a_rerun_applies_the_version()
    {
        using var root = new BuildRoot();
        root.Migrations.Script("0.1", "010_create_courses.sql", """
            CREATE TABLE courses (id serial PRIMARY KEY, title text NOT NULL);
            INSERT INTO courses (title) SELECT 'Course ' || g FROM generate_series(1, 100) AS g;
            """);
        root.Migrations.Script("0.2", "010_reshape_courses.sql", LongReshape);
        var database = await TestDatabase.CreateAsync(postgres);
        var password = new NpgsqlConnectionStringBuilder(database.ConnectionString).Password;
        Assert.False(string.IsNullOrEmpty(password), "The secret checks of this test need a server that asks for a password.");

        await AssertBuildSucceedsAsync(root, database, "0.1");
        var dumpBefore = await database.DumpAsync();

        using (var killed = await BuildProgram.StartAsync(root, database.ConnectionString, "Deploy", "--version", "0.2"))
        {
            var sleeper = await WaitForSleepingBackendAsync(database, killed);
            Assert.DoesNotContain(killed.CommandLine(), argument => argument.Contains(password));
            Assert.Contains("Deploy", killed.CommandLine());

            await killed.KillAsync();
            var clock = Stopwatch.StartNew();
            while (await database.ScalarAsync<bool>($"SELECT EXISTS (SELECT FROM pg_stat_activity WHERE {RunnerSessions})", new { sleeper }))
            {
                if (clock.Elapsed > ServerNoticesWithin)
                {
                    await database.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {RunnerSessions}", new { sleeper });
                    Assert.Fail($"The server kept the killed runner's sessions (pid {sleeper} in pg_sleep) for more than {ServerNoticesWithin}: client_connection_check_interval did not end them.");
                }

                await Task.Delay(100);
            }

            output.WriteLine($"The server ended the killed runner's sessions {clock.Elapsed.TotalSeconds:0.0} s after SIGKILL.");
            DumpAssert.Identical(dumpBefore, await database.DumpAsync());
            Assert.True(await database.DeploymentLockIsFreeAsync());
            Assert.Equal(new AppVersion(0, 1), await database.CurrentVersionAsync());
            AssertNoSecretIn(root, killed.Output, password);
        }

        // The killed script never committed, so it may still change: the rerun gets the short version of it.
        root.Migrations.Script("0.2", "010_reshape_courses.sql", LongReshape.Replace("pg_sleep(60)", "pg_sleep(0.1)"));
        var rerunOutput = await AssertBuildSucceedsAsync(root, database, "0.2");

        Assert.Equal(["v0.1/010_create_courses.sql", "v0.2/010_reshape_courses.sql"], await database.AppliedStepsAsync());
        Assert.Equal(new AppVersion(0, 2), await database.CurrentVersionAsync());
        Assert.True(await database.ColumnExistsAsync("courses", "credits"));
        Assert.Equal(root.Migrations.ChecksumOf("0.2", "010_reshape_courses.sql"), (await database.HistoryAsync()).Last().Checksum);
        AssertNoSecretIn(root, rerunOutput, password);
    }

    private static async Task<string> AssertBuildSucceedsAsync(BuildRoot root, TestDatabase database, string version)
    {
        using var build = await BuildProgram.StartAsync(root, database.ConnectionString, "Deploy", "--version", version);
        var exitCode = await build.WaitForExitAsync(TimeSpan.FromMinutes(2));
        Assert.True(exitCode == 0, $"Deploy --version {version} exited with {exitCode}:{Environment.NewLine}{build.Output}");
        return build.Output;
    }

    /// <summary>Waits until the runner's session is inside the script's pg_sleep, and returns that backend's pid.</summary>
    private static async Task<int> WaitForSleepingBackendAsync(TestDatabase database, BuildProcess build)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var sleepers = await database.QueryAsync<int>(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT pg_sleep(60)%'");
            if (sleepers.Count == 1)
            {
                return sleepers[0];
            }

            Assert.False(build.HasExited, $"The build program exited before it reached pg_sleep:{Environment.NewLine}{build.Output}");
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"The runner did not reach pg_sleep within a minute:{Environment.NewLine}{build.Output}");
            await Task.Delay(100);
        }
    }

    private static void AssertNoSecretIn(BuildRoot root, string output, string password)
    {
        var logs = root.LogFiles().ToList();
        Assert.Contains(logs, log => Path.GetFileName(log) == "build.log");
        Assert.All(logs, log => Assert.DoesNotContain(password, File.ReadAllText(log)));
        Assert.DoesNotContain(password, output);
    }
}
