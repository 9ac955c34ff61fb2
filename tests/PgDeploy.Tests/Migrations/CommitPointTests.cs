using PgDeploy.Migrations;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Migrations;

/// <summary>A script whose leading comments say `-- deploy:no-transaction` runs on its own, after the work before it is committed.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CommitPointTests(PostgresFixture postgres)
{
    private const string CreateMarks = """
        CREATE TABLE marks (id serial PRIMARY KEY, student text NOT NULL, score int NOT NULL);
        INSERT INTO marks (student, score) SELECT 'Student ' || g, g % 101 FROM generate_series(1, 5000) AS g;
        """;

    private const string IndexScoresConcurrently = """
        -- Built without blocking writes to marks.
        -- deploy:no-transaction
        CREATE INDEX CONCURRENTLY marks_score_idx ON marks (score);
        """;

    [Fact]
    public async Task A_no_transaction_script_creates_an_index_concurrently_and_the_index_is_valid()
    {
        using var migrations = MigrationFolder.CreateTemporary();
        migrations.Script("0.2", "010_create_marks.sql", CreateMarks);
        migrations.Script("0.2", "020_index_scores.sql", IndexScoresConcurrently);
        migrations.Script("0.2", "030_add_grade.sql", "ALTER TABLE marks ADD COLUMN grade text;\n");
        var database = await TestDatabase.CreateAsync(postgres);

        var deployment = await Deployment.RunAsync(database, migrations, "0.2");

        Assert.True(deployment.Plan.HasCommitPoints);
        Assert.Equal([(false, 1), (true, 2), (false, 3)], deployment.Plan.Steps.Select(planned => (planned.OutsideTransaction, planned.Segment)));
        Assert.True(await database.ScalarAsync<bool>("SELECT indisvalid AND indisready FROM pg_index WHERE indexrelid = 'marks_score_idx'::regclass"));
        Assert.True(await database.ColumnExistsAsync("marks", "grade"));
        Assert.Equal(["v0.2/010_create_marks.sql", "v0.2/020_index_scores.sql", "v0.2/030_add_grade.sql"], await database.AppliedStepsAsync());
        Assert.All(await database.HistoryAsync(), row => Assert.Equal(deployment.RunId, row.RunId));
    }

    [Fact]
    public async Task Create_index_concurrently_in_a_transactional_script_is_refused_at_plan_time_with_file_and_line_and_nothing_runs()
    {
        using var migrations = MigrationFolder.CreateTemporary();
        migrations.Script("0.2", "010_create_marks.sql", CreateMarks);
        migrations.Script("0.2", "020_index_scores.sql", IndexScoresConcurrently.Replace("-- deploy:no-transaction", "-- (the directive is missing)"));
        var database = await TestDatabase.CreateAsync(postgres);

        var refusal = await Assert.ThrowsAsync<DeploymentRefusedException>(() => Deployment.RunAsync(database, migrations, "0.2"));

        Assert.Contains("v0.2/020_index_scores.sql:3: CREATE INDEX CONCURRENTLY cannot run inside a transaction block", refusal.Message);
        Assert.Contains("-- deploy:no-transaction", refusal.Message);
        Assert.False(await database.TableExistsAsync("marks"));
        Assert.Empty(await database.HistoryAsync());
        Assert.True(await database.DeploymentLockIsFreeAsync());
    }

    [Fact]
    public async Task A_failure_after_a_commit_point_keeps_the_committed_work_and_a_rerun_resumes_after_it()
    {
        using var migrations = MigrationFolder.CreateTemporary();
        migrations.Script("0.2", "010_create_marks.sql", CreateMarks);
        migrations.Script("0.2", "020_index_scores.sql", IndexScoresConcurrently);
        migrations.Script("0.2", "030_grade_marks.sql", """
            ALTER TABLE marks ADD COLUMN grade text;
            UPDATE marks SET grade = CASE WHEN score / (score - score) > 0 THEN 'pass' ELSE 'fail' END;
            """);
        migrations.Script("0.2", "040_index_grades.sql", "CREATE INDEX marks_grade_idx ON marks (grade);\n");
        var database = await TestDatabase.CreateAsync(postgres);
        var firstRunId = Deployment.NewRunId();

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => Deployment.RunAsync(database, migrations, "0.2", runId: firstRunId));

        Assert.Equal("22012", failure.SqlState);
        Assert.Contains("Committed before the failure (commit points): v0.2/010_create_marks.sql, v0.2/020_index_scores.sql; a re-run resumes after them", failure.Message);
        Assert.Equal(5000, await database.ScalarAsync<long>("SELECT count(*) FROM marks"));
        Assert.True(await database.ScalarAsync<bool>("SELECT indisvalid FROM pg_index WHERE indexrelid = 'marks_score_idx'::regclass"));
        Assert.False(await database.ColumnExistsAsync("marks", "grade"));
        Assert.Equal(
            [("010_create_marks.sql", true), ("020_index_scores.sql", true), ("030_grade_marks.sql", false)],
            (await database.HistoryAsync()).Select(row => (row.Name, row.Success)));

        // 030 never applied, so it may still be fixed; the re-run starts with it.
        migrations.Script("0.2", "030_grade_marks.sql", """
            ALTER TABLE marks ADD COLUMN grade text;
            UPDATE marks SET grade = CASE WHEN score >= 50 THEN 'pass' ELSE 'fail' END;
            """);
        var rerun = await Deployment.RunAsync(database, migrations, "0.2");

        Assert.Equal(["030_grade_marks.sql", "040_index_grades.sql"], rerun.Plan.Steps.Select(planned => planned.Step.FileName));
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM marks WHERE grade IS NULL"));
        Assert.True(await database.TableExistsAsync("marks_grade_idx"));
        var history = await database.HistoryAsync();
        Assert.Equal(
            [
                ("010_create_marks.sql", true, firstRunId), ("020_index_scores.sql", true, firstRunId), ("030_grade_marks.sql", false, firstRunId),
                ("030_grade_marks.sql", true, rerun.RunId), ("040_index_grades.sql", true, rerun.RunId),
            ],
            history.Select(row => (row.Name, row.Success, row.RunId)));
        Assert.Equal(migrations.ChecksumOf("0.2", "030_grade_marks.sql"), history[3].Checksum);
    }
}
