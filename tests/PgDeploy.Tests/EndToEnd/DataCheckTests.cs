using System.Runtime.Versioning;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// A statement that would fail inside the window on today's data is refused by Prerequisites, before anything changes: the data is
/// written the way an application could have, then a script of 0.2 (first in the plan) holds one statement per breakage. Deploy
/// must exit 2 with the "data checks" prerequisite failed, name each statement's script, line and rule in one refusal, and leave
/// everything as it was.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class DataCheckTests(PostgresFixture postgres)
{
    /// One statement per breakage, each on its own line (3 to 9 of the script), with what the refusal must say of it.
    static readonly (string Data, string Statement, string[] KeyWords)[] Breakages =
    [
        ("INSERT INTO students (full_name) VALUES ('Ada Lovelace')",
            "CREATE UNIQUE INDEX students_full_name_key ON students (full_name)",
            ["[unique]", "1 value(s) occur more than once", "(full_name=Ada Lovelace)"]),
        ("ALTER TABLE grades ALTER COLUMN course DROP NOT NULL; UPDATE grades SET course = NULL WHERE id IN (2, 3)",
            "ALTER TABLE grades ALTER COLUMN course SET NOT NULL",
            ["[not-null]", "2 row(s) hold NULL", "(id=2)"]),
        ("ALTER TABLE grades DROP CONSTRAINT grades_student_id_fkey; INSERT INTO grades (id, student_id, course, grade) VALUES (1000, 999, 'Chemistry', 70)",
            "ALTER TABLE grades ADD CONSTRAINT grades_student_fk FOREIGN KEY (student_id) REFERENCES students",
            ["[foreign-key]", "1 row(s) have no parent", "(student_id=999)"]),
        ("ALTER TABLE students ADD COLUMN code text; UPDATE students SET code = id::text; UPDATE students SET code = 'x7' WHERE id = 2",
            "ALTER TABLE students ALTER COLUMN code TYPE integer USING code::integer",
            ["[cast]", "students.code cannot become int", "invalid input syntax for type integer: \"…\""]),
        ("SELECT 1",
            "ALTER TABLE studnets ADD COLUMN nickname text",
            ["[missing-object]", "the table studnets does not exist at this point of the plan"]),
        ("SELECT 1",
            "ALTER TABLE grades ADD CONSTRAINT grade_is_a_pass CHECK (grade >= 70)",
            ["[check]", "grade_is_a_pass", "row(s) break it"]),
        ("UPDATE students SET full_name = 'Katherine Coleman Goble Johnson' WHERE full_name LIKE 'Katherine%'",
            "ALTER TABLE students ALTER COLUMN full_name TYPE varchar(25)",
            ["[cast]", "1 value(s) are longer"]),
    ];

    [Fact]
    public async Task Every_statement_that_todays_data_breaks_is_refused_together_before_the_fence()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        foreach (var (data, _, _) in Breakages)
            await scenario.Database.ExecuteAsync(data);
        scenario.Root.Migrations.Script("0.2", "005_breaks.sql", $"-- Each statement fails on the data above.\n\n{string.Join("\n", Breakages.Select(breakage => breakage.Statement + ";"))}\n");
        var before = await scenario.SnapshotAsync();

        var run = await scenario.DeployAsync("0.2");

        DeploymentScenario.AssertRefusedInPrerequisites(run, "data checks");
        Assert.Contains($"{Breakages.Length} statement(s) of the plan would fail inside the window", run.Output);
        for (var index = 0; index < Breakages.Length; index++)
        {
            var line = run.Output.Split('\n').FirstOrDefault(text => text.Contains($"v0.2/005_breaks.sql:{index + 3}: error"));
            Assert.True(line is not null, $"No refusal names line {index + 3} ({Breakages[index].Statement}):{Environment.NewLine}{run.Output}");
            Assert.All(Breakages[index].KeyWords, keyWord => Assert.Contains(keyWord, line));
        }
        await scenario.AssertUnchangedAsync(before, run);
    }

    [Fact]
    public async Task Statements_that_todays_data_satisfies_pass_and_what_cannot_be_derived_is_said()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        scenario.Root.Migrations.Script("0.2", "005_holds.sql", """
            CREATE UNIQUE INDEX students_id_name_key ON students (id, full_name);
            ALTER TABLE grades ADD CONSTRAINT grade_is_a_percentage CHECK (grade BETWEEN 0 AND 100);
            ALTER TABLE grades ADD COLUMN remark text;
            UPDATE grades SET remark = 'ok';
            ALTER TABLE grades ALTER COLUMN remark SET NOT NULL;
            ALTER TABLE grades ADD CONSTRAINT grade_is_not_negative CHECK (grade >= 0);
            """);

        var run = await scenario.DeployAsync("0.2");

        run.AssertExitCode(0);
        Assert.Matches(@"ok    data checks: \d+ statement\(s\), \d+ data check\(s\) on today's rows: none would fail; \d+ not derivable", run.Output);
        // Line 6 checks grade, which the changes to remark leave as it is today: derived, and it holds. Each finding is in build.log,
        // not on the console.
        var log = scenario.Root.LastLog();
        Assert.DoesNotContain("v0.2/005_holds.sql:6: info", log);
        Assert.Contains("v0.2/005_holds.sql:5: info [not-null] not derivable from today's data: v0.2/005_holds.sql:3 earlier in the plan changes grades.remark", log);
        Assert.DoesNotContain("v0.2/005_holds.sql:5: info", run.Output);
        Assert.Equal("0.2", (await scenario.Database.CurrentVersionAsync())?.ToString());
    }

    /// <summary>
    /// A script that rewrites a table is estimated from the table's size and the server's measured throughput; over window.budget,
    /// production refuses before the fence and names the script, while the same plan within the budget deploys.
    /// </summary>
    [Fact]
    public async Task Production_refuses_scripts_estimated_over_the_window_budget_and_names_them()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        await scenario.Database.ExecuteAsync("INSERT INTO grades (student_id, course, grade) SELECT 1, 'Filler ' || g, 70 FROM generate_series(1, 200000) AS g");
        scenario.Root.Migrations.Script("0.2", "005_rewrite_grades.sql", "ALTER TABLE grades ALTER COLUMN grade TYPE bigint;\n");
        await scenario.ConfigureAsync(scenario.Settings with { Production = true, WindowBudget = "1ms" });
        var before = await scenario.SnapshotAsync();

        var refused = await scenario.DeployAsync("0.2", "--yes");

        DeploymentScenario.AssertRefusedInPrerequisites(refused, "window estimate");
        Assert.Matches(@"v0\.2/005_rewrite_grades\.sql:1: rewrite of grades \([0-9.]+ MB, ~[0-9,]+ rows\), ACCESS EXCLUSIVE lock, est\. [0-9.,]+ (ms|s)", scenario.Root.LastLog());
        Assert.Matches(@"over window\.budget 1 ms of 'ci': v0\.2/005_rewrite_grades\.sql [0-9.,]+ (ms|s)", refused.Output);
        await scenario.AssertUnchangedAsync(before, refused);

        await scenario.ConfigureAsync(scenario.Settings with { WindowBudget = "15min" });
        var deployed = await scenario.DeployAsync("0.2", "--yes");

        deployed.AssertExitCode(0);
        Assert.Matches(@"ok    window estimate: scripts est\. [0-9.,]+ (ms|s) inside the fence \(measured here: scan [0-9,]+ MB/s.*within window\.budget 15\.0 min", deployed.Output);
    }
}
