using Dapper;
using Npgsql;
using PgDeploy.Migrations;
using PgDeploy.Safety.Verification;
using PgDeploy.Tests.Fixtures;

namespace School.Tests;

/// The v0.3 → v0.4 upgrade through the runner's own API, as ./build.sh Deploy runs it: Migrate and
/// PostProcess in one transaction, the version's verification inside it, then the commit.
[Collection(PostgresCollection.Name)]
public sealed class UpgradeTests(PostgresFixture postgres)
{
    const int Seed = 11;

    static string VerifyDirectory => Path.Combine(SchoolDatabase.MigrationsDirectory, SchoolDatabase.V04.FolderName, MigrationCatalog.VerifyFolder);

    [Fact]
    public async Task The_upgrade_keeps_every_row_and_reference_passes_verification_and_every_user_can_log_in()
    {
        var connectionString = await SchoolDatabase.CreateAtV03Async(postgres);
        await SampleData.GenerateAsync(connectionString, 0.001, Seed);
        var before = await SchoolSnapshot.TakeAsync(connectionString, userKey: "u.id");

        await using (var run = SchoolDatabase.NewRun(connectionString, SchoolDatabase.V04))
        {
            await run.ApplyAsync(UpgradePhase.Migrate, commit: false, CancellationToken.None);
            await run.ApplyAsync(UpgradePhase.PostProcess, commit: false, CancellationToken.None);
            var report = await new IntegrityVerifier(run.Session!.Connection, run.Session.Transaction!)
                .VerifyAsync(VerifyDirectory, before.Counts, CancellationToken.None);
            Assert.True(report.Passed, report.ToMarkdown());
            Assert.Contains(report.Checks, check => check.Name.StartsWith("Verify query 090_enrollments_of_non_students.sql"));
            await run.CommitAsync(CancellationToken.None);
        }

        var after = await SchoolSnapshot.TakeAsync(connectionString, userKey: "u.legacy_id");
        Assert.Equal(before.Counts, after.Counts);
        Assert.Equal(before.Users, after.Users);
        Assert.Equal(before.Classes, after.Classes);
        Assert.Equal(before.Enrollments, after.Enrollments);
        Assert.Equal(before.ActivityLogs, after.ActivityLogs);

        await using var connection = new NpgsqlConnection(connectionString);
        Assert.Equal("uuid", await UserIdTypeAsync(connection));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) - count(DISTINCT username) FROM users"));
        var parameters = Argon2Parameters.FromEnvironment();
        Assert.All(await connection.QueryAsync<string>("SELECT password_hash FROM users"),
            hash => Assert.StartsWith($"$argon2id$v=19$m={parameters.MemoryKiB},t={parameters.Iterations},p={parameters.Parallelism}$", hash));
        var logins = await SampleData.CheckLoginsAsync(connectionString, Seed, sampleSize: 25);
        Assert.True(logins.Passed, $"{logins.FailedLegacyIds.Count} of {logins.Checked} sample users could not log in: legacy ids {string.Join(", ", logins.FailedLegacyIds)}");
        // The check must be able to fail: another seed's passwords are wrong ones.
        Assert.Equal(5, (await SampleData.CheckLoginsAsync(connectionString, Seed + 1, sampleSize: 5)).FailedLegacyIds.Count);
    }

    [Fact]
    public async Task An_empty_database_goes_straight_to_v04_as_on_a_newcomers_first_run()
    {
        var connectionString = await postgres.CreateDatabaseAsync();

        await using (var run = SchoolDatabase.NewRun(connectionString, SchoolDatabase.V04))
        {
            await run.ApplyAsync(UpgradePhase.Migrate, commit: false, CancellationToken.None);
            await run.ApplyAsync(UpgradePhase.PostProcess, commit: true, CancellationToken.None);
        }

        await using var connection = new NpgsqlConnection(connectionString);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM assignments"));
        Assert.Equal("uuid", await UserIdTypeAsync(connection));
    }

    [Fact]
    public async Task Usernames_are_folded_to_ascii_letters_and_numbered_from_the_second_holder_on()
    {
        var connectionString = await SchoolDatabase.CreateAtV03Async(postgres);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO schools (id, name, email_domain) VALUES (1, 'Test High School', 'test.example');
                INSERT INTO users (id, school_id, role, email, first_name, last_name, password) VALUES
                    (1, 1, 'student', 'a@test.example', 'José', 'Núñez', 'pw'),
                    (2, 1, 'student', 'b@test.example', 'Jose', 'Nunez', 'pw'),
                    (3, 1, 'student', 'c@test.example', 'JOSÉ ', ' Núñez', 'pw'),
                    (4, 1, 'teacher', 'd@test.example', 'Seán', 'O''Brien', 'pw'),
                    (5, 1, 'student', 'e@test.example', 'Bảo  Hoàng', 'Đặng', 'pw'),
                    (6, 1, 'student', 'f@test.example', 'Søren', 'Straße', 'pw'),
                    (7, 1, 'admin', 'g@test.example', '李', '小龙', 'pw'),
                    (8, 1, 'student', 'h@test.example', '李', 'Smith', 'pw'),
                    (9, 1, 'student', 'i@test.example', '王', '芳', 'pw');
                """);
        }

        await using (var run = SchoolDatabase.NewRun(connectionString, SchoolDatabase.V04))
        {
            await run.ApplyAsync(UpgradePhase.Migrate, commit: false, CancellationToken.None);
            await run.ApplyAsync(UpgradePhase.PostProcess, commit: true, CancellationToken.None);
        }

        await using var check = new NpgsqlConnection(connectionString);
        var names = (await check.QueryAsync<(int LegacyId, string Username, string DisplayName)>(
            "SELECT legacy_id, username, display_name FROM users ORDER BY legacy_id")).ToList();
        Assert.Equal(
            [
                (1, "jose.nunez", "José Núñez"), (2, "jose.nunez2", "Jose Nunez"), (3, "jose.nunez3", "JOSÉ Núñez"),
                (4, "sean.obrien", "Seán O'Brien"), (5, "baohoang.dang", "Bảo Hoàng Đặng"), (6, "soren.strasse", "Søren Straße"),
                (7, "user", "李 小龙"), (8, "smith", "李 Smith"), (9, "user2", "王 芳"),
            ],
            names);
    }

    static Task<string?> UserIdTypeAsync(NpgsqlConnection connection) =>
        connection.ExecuteScalarAsync<string>("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'id'");
}
