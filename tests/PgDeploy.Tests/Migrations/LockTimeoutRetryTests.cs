using System.Diagnostics;
using Dapper;
using Npgsql;
using PgDeploy.Migrations;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Migrations;

/// <summary>A script that cannot get its lock within lock_timeout is retried from its savepoint, with backoff, up to LockRetries times.</summary>
[Collection(PostgresCollection.Name)]
public sealed class LockTimeoutRetryTests(PostgresFixture postgres)
{
    private static readonly TimeSpan HoldFor = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_script_blocked_by_a_table_lock_succeeds_after_lock_timeout_retries()
    {
        using var migrations = CoursesWithAlter();
        var database = await DeployedAtV01Async(migrations);
        var settings = Deployment.Settings with { LockTimeout = TimeSpan.FromMilliseconds(200), LockRetries = 5 };

        var clock = Stopwatch.StartNew();
        var holder = HoldAccessExclusiveLockAsync(database, HoldFor);
        var deployment = await Deployment.RunAsync(database, migrations, "0.2", settings);
        await holder;

        Assert.True(clock.Elapsed >= HoldFor, $"the deployment finished after {clock.Elapsed}, before the lock was released");
        Assert.True(await database.ColumnExistsAsync("courses", "credits"));
        var applied = Assert.Single(await database.HistoryAsync(), row => row.RunId == deployment.RunId && row.Name == "020_add_credits.sql");
        Assert.True(applied.Success);
        // The recorded duration spans the failed attempts and the backoff between them.
        Assert.True(applied.DurationMs >= 1000, $"duration {applied.DurationMs} ms");
    }

    [Fact]
    public async Task Without_retries_a_lock_timeout_fails_with_55P03_and_advice_and_changes_nothing()
    {
        using var migrations = CoursesWithAlter();
        var database = await DeployedAtV01Async(migrations);
        var settings = Deployment.Settings with { LockTimeout = TimeSpan.FromMilliseconds(200), LockRetries = 0 };

        var holder = HoldAccessExclusiveLockAsync(database, HoldFor);
        var failure = await Assert.ThrowsAsync<StepFailedException>(() => Deployment.RunAsync(database, migrations, "0.2", settings));
        await holder;

        Assert.Equal(PostgresErrorCodes.LockNotAvailable, failure.SqlState);
        Assert.Contains("failed with 55P03: canceling statement due to lock timeout", failure.Message);
        Assert.Contains("Another session kept a lock longer than lock_timeout, through every retry: find it in pg_stat_activity and pg_locks", failure.Message);
        Assert.False(await database.ColumnExistsAsync("courses", "credits"));
        var failed = (await database.HistoryAsync()).Last();
        Assert.Equal(("020_add_credits.sql", false, "55P03"), (failed.Name, failed.Success, failed.ErrorSqlState));
        Assert.Equal("ALTER TABLE courses ADD COLUMN credits int NOT NULL DEFAULT 5", failed.ErrorStatement);
    }

    private static MigrationFolder CoursesWithAlter()
    {
        var migrations = MigrationFolder.CreateTemporary();
        migrations.Script("0.1", "010_create_courses.sql", "CREATE TABLE courses (id serial PRIMARY KEY, title text NOT NULL);\nINSERT INTO courses (title) VALUES ('Algebra');\n");
        migrations.Script("0.2", "010_create_rooms.sql", "CREATE TABLE rooms (id serial PRIMARY KEY, name text NOT NULL);\n");
        migrations.Script("0.2", "020_add_credits.sql", "ALTER TABLE courses ADD COLUMN credits int NOT NULL DEFAULT 5;\n");
        return migrations;
    }

    private async Task<TestDatabase> DeployedAtV01Async(MigrationFolder migrations)
    {
        var database = await TestDatabase.CreateAsync(postgres);
        await Deployment.RunAsync(database, migrations, "0.1");
        return database;
    }

    /// <summary>Takes an ACCESS EXCLUSIVE lock on courses from another session before returning, and releases it after <paramref name="duration"/>.</summary>
    private static Task HoldAccessExclusiveLockAsync(TestDatabase database, TimeSpan duration)
    {
        var connection = new NpgsqlConnection(database.ConnectionString);
        connection.Open();
        var transaction = connection.BeginTransaction();
        connection.Execute("LOCK TABLE courses IN ACCESS EXCLUSIVE MODE", transaction: transaction);
        return ReleaseAsync();

        async Task ReleaseAsync()
        {
            await Task.Delay(duration);
            await transaction.RollbackAsync();
            await connection.DisposeAsync();
        }
    }
}
