using Migrations.V0_4;
using PgDeploy.Migrations;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Migrations;

/// <summary>
/// A failing step rolls the whole upgrade back: a full pg_dump after the failure equals the one before it. The tables have
/// serial keys and the failing work draws from their sequences, so a sequence left advanced by the failed run would show.
/// The pgdeploy schema is left out of the comparison: its history legitimately gains the failure row.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FailureRollbackTests(PostgresFixture postgres)
{
    private const string DuplicateInsert = "INSERT INTO students (first_name, last_name, email) VALUES ('First1', 'Last1', 'first1.last1@school.test')";

    [Fact]
    public async Task A_script_failing_in_the_middle_of_a_version_leaves_the_database_exactly_as_before_and_records_the_failing_statement()
    {
        using var migrations = SchoolMigrations.UpTo("0.3");
        migrations.Script("0.4", "010_add_email.sql", """
            ALTER TABLE students ADD COLUMN email text;
            UPDATE students SET email = lower(first_name || '.' || last_name) || '@school.test';
            """);
        migrations.Script("0.4", "020_unique_email.sql", """
            CREATE UNIQUE INDEX students_email_key ON students (email);
            INSERT INTO courses (title) VALUES ('Drama');
            INSERT INTO students (first_name, last_name, email) VALUES ('New', 'Student', 'new.student@school.test');
            """);
        migrations.Script("0.4", "030_add_transfer_students.sql", $"""
            INSERT INTO students (first_name, last_name, email) VALUES ('Transfer', 'One', 'transfer.one@school.test');
            {DuplicateInsert};
            """);
        migrations.Script("0.4", "040_index_last_names.sql", "CREATE INDEX students_last_name_idx ON students (last_name);\n");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.3");
        var historyBefore = await database.HistoryAsync();
        var dumpBefore = await database.DumpAsync();
        var runId = Deployment.NewRunId();

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => Deployment.RunAsync(database, migrations, "0.4", runId: runId));

        Assert.Equal("23505", failure.SqlState);
        Assert.Equal(DuplicateInsert, failure.Statement);
        Assert.Contains("v0.4/030_add_transfer_students.sql at line 2 failed with 23505", failure.Message);
        Assert.Contains("Nothing of this run was committed", failure.Message);
        DumpAssert.Identical(dumpBefore, await database.DumpAsync());
        Assert.True(await database.DeploymentLockIsFreeAsync());

        var history = await database.HistoryAsync();
        Assert.Equal(historyBefore, history.Take(historyBefore.Count));
        var failed = Assert.Single(history.Skip(historyBefore.Count));
        Assert.Equal(("0.4", "030_add_transfer_students.sql", "sql", false, runId), (failed.Version, failed.Name, failed.Kind, failed.Success, failed.RunId));
        Assert.Equal(migrations.ChecksumOf("0.4", "030_add_transfer_students.sql"), failed.Checksum);
        Assert.Equal("23505", failed.ErrorSqlState);
        Assert.Equal(DuplicateInsert, failed.ErrorStatement);
        Assert.Contains("students_email_key", failed.ErrorMessage);
        Assert.Equal(new AppVersion(0, 3), await database.CurrentVersionAsync());
    }

    [Fact]
    public async Task A_csharp_step_failing_after_writing_rows_leaves_the_database_exactly_as_before_and_records_the_step()
    {
        using var migrations = SchoolMigrations.UpTo("0.3");
        migrations.Script("0.4", "010_add_display_name.sql", "ALTER TABLE students ADD COLUMN display_name text;\n");
        migrations.Step<FillDisplayNames>(20);
        migrations.Step<WriteRowsThenFail>(30);
        migrations.Script("0.4", "040_require_display_name.sql", "ALTER TABLE students ALTER COLUMN display_name SET NOT NULL;\n");
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.3");
        var historyBefore = await database.HistoryAsync();
        var dumpBefore = await database.DumpAsync();
        var runId = Deployment.NewRunId();

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => Deployment.RunAsync(database, migrations, "0.4", runId: runId));

        Assert.Equal("030_WriteRowsThenFail.cs", failure.Step.FileName);
        Assert.IsType<InvalidOperationException>(failure.InnerException);
        Assert.Contains($"v0.4/030_WriteRowsThenFail.cs failed: {WriteRowsThenFail.Failure}", failure.Message);
        Assert.Contains("The transaction was rolled back (v0.4/010_add_display_name.sql, v0.4/020_FillDisplayNames.cs, v0.4/030_WriteRowsThenFail.cs)", failure.Message);
        DumpAssert.Identical(dumpBefore, await database.DumpAsync());
        Assert.True(await database.DeploymentLockIsFreeAsync());

        var history = await database.HistoryAsync();
        Assert.Equal(historyBefore, history.Take(historyBefore.Count));
        var failed = Assert.Single(history.Skip(historyBefore.Count));
        Assert.Equal(("0.4", "030_WriteRowsThenFail.cs", "csharp", false, runId), (failed.Version, failed.Name, failed.Kind, failed.Success, failed.RunId));
        Assert.Equal(migrations.ChecksumOf("0.4", "030_WriteRowsThenFail.cs"), failed.Checksum);
        Assert.Null(failed.ErrorSqlState);
        Assert.Equal(WriteRowsThenFail.Failure, failed.ErrorMessage);
        Assert.Equal(new AppVersion(0, 3), await database.CurrentVersionAsync());
    }
}
