using Dapper;
using Npgsql;
using PgDeploy.Safety.Verification;
using PgDeploy.Tests.Fixtures;

namespace PgDeploy.Tests.Safety.Verification;

[Collection(PostgresCollection.Name)]
public sealed class IntegrityVerifierTests(PostgresFixture postgres)
{
    const string CleanSchema =
        """
        CREATE TABLE users (id int PRIMARY KEY, email text);
        CREATE TABLE "Order Items" ("User ID" int REFERENCES users, item text);
        CREATE TABLE activity_logs (user_id int, action text);
        CREATE TABLE grades (user_id int, score int);
        CREATE TABLE sections (course int, section int, PRIMARY KEY (course, section));
        CREATE TABLE enrolments (course int, section int, FOREIGN KEY (course, section) REFERENCES sections MATCH FULL);
        CREATE TABLE events (user_id int REFERENCES users, at date) PARTITION BY RANGE (at);
        CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        INSERT INTO users VALUES (1, 'ada@example.org'), (2, 'alan@example.org');
        INSERT INTO "Order Items" VALUES (1, 'book'), (NULL, 'gift card');
        INSERT INTO activity_logs VALUES (1, 'login'), (NULL, 'anonymous visit');
        INSERT INTO grades VALUES (2, 90);
        ALTER TABLE grades ADD CONSTRAINT grades_user_fk FOREIGN KEY (user_id) REFERENCES users NOT VALID;
        INSERT INTO sections VALUES (1, 1);
        INSERT INTO enrolments VALUES (1, 1), (NULL, NULL);
        INSERT INTO events VALUES (2, '2025-03-01');
        """;

    [Fact]
    public async Task A_clean_schema_passes_every_check_and_the_markdown_lists_each_one()
    {
        await using var scenario = (await VerificationScenario.CreateAsync(postgres, CleanSchema))
            .WithFile("references.json", """[{ "from": "activity_logs(user_id)", "to": "users(id)" }]""")
            .WithFile("counts.json", """{ "users": "unchanged", "grades": "exactly:1", "activity_logs": "at-least:1" }""")
            .WithFile("no_failing_grades.sql", "-- every grade is out of 100\nSELECT user_id FROM grades WHERE score NOT BETWEEN 0 AND 100;");

        var report = await scenario.VerifyAsync(new Dictionary<string, long> { ["users"] = 2, ["public.\"Order Items\""] = 2 });

        Assert.Equal(
        [
            "Foreign key Order Items_User ID_fkey: Order Items(User ID) → users(id)",
            "Foreign key enrolments_course_section_fkey: enrolments(course, section) → sections(course, section) MATCH FULL",
            "Foreign key events_user_id_fkey: events(user_id) → users(id)",
            "Foreign key grades_user_fk: grades(user_id) → users(id)",
            "Declared reference: activity_logs(user_id) → users(id)",
            "Row count: users unchanged",
            "Row count: grades exactly:1",
            "Row count: activity_logs at-least:1",
            "Row counts without a rule",
            "Verify query no_failing_grades.sql",
            "Invalid indexes",
        ], report.Checks.Select(check => check.Name));
        Assert.All(report.Checks, check => Assert.Equal(Verdict.Passed, check.Verdict));
        Assert.True(report.Passed);
        Assert.Equal("Integrity verified: 11 checks, none failed.", report.Summary);
        var markdown = report.ToMarkdown();
        Assert.StartsWith("| Check | Figure | Verdict | Detail |\n|---|---|---|---|\n", markdown);
        Assert.All(report.Checks, check => Assert.Contains($"| {check.Name} | {check.Figure} | passed |", markdown));
        Assert.EndsWith($"\n{report.Summary}\n", markdown);
        report.ThrowIfFailed();
    }

    [Fact]
    public async Task Finds_an_orphan_under_a_not_valid_foreign_key_and_shows_its_key_but_no_other_value()
    {
        await using var scenario = await VerificationScenario.CreateAsync(postgres,
            """
            CREATE TABLE users (id int PRIMARY KEY);
            CREATE TABLE grades (user_id int, remark text);
            INSERT INTO users VALUES (1);
            INSERT INTO grades VALUES (1, 'fine'), (42, 'confidential remark'), (NULL, 'unassigned');
            ALTER TABLE grades ADD CONSTRAINT grades_user_fk FOREIGN KEY (user_id) REFERENCES users NOT VALID;
            """);

        var report = await scenario.VerifyAsync();

        var check = Assert.Single(report.Failures);
        Assert.Equal("Foreign key grades_user_fk: grades(user_id) → users(id)", check.Name);
        Assert.Equal("1 orphan", check.Figure);
        Assert.Equal("1 row(s) of grades have no parent in users, e.g. (user_id=42). NOT VALID: PostgreSQL never checked the rows older than the constraint.", check.Detail);
        Assert.DoesNotContain("confidential", report.ToMarkdown());
        var failure = Assert.Throws<DeploymentException>(() => report.ThrowIfFailed());
        Assert.StartsWith("Integrity verification failed: 1 of 3 checks failed (Foreign key grades_user_fk: grades(user_id) → users(id)). The upgrade is not committed.", failure.Message);
        Assert.Contains("older than the constraint. Fix the migration", failure.Message);
    }

    [Fact]
    public async Task Checks_a_partitioned_tables_foreign_key_once_at_the_parent()
    {
        // PostgreSQL 15 refuses NOT VALID foreign keys on partitioned tables; orphans still arrive the way
        // pg_restore --disable-triggers or replication lets them in: with the foreign key triggers off.
        await using var scenario = await VerificationScenario.CreateAsync(postgres,
            """
            CREATE TABLE users (id int PRIMARY KEY);
            CREATE TABLE events (user_id int REFERENCES users, at date) PARTITION BY RANGE (at);
            CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            INSERT INTO users VALUES (1);
            INSERT INTO events VALUES (1, '2025-05-01');
            SET LOCAL session_replication_role = replica;
            INSERT INTO events VALUES (7, '2026-05-01');
            SET LOCAL session_replication_role = origin;
            """);
        var clones = await scenario.Connection.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conparentid <> 0", transaction: scenario.Transaction);

        var report = await scenario.VerifyAsync();

        Assert.Equal(2, clones);
        var check = Assert.Single(report.Checks, check => check.Name.StartsWith("Foreign key", StringComparison.Ordinal));
        Assert.Equal("Foreign key events_user_id_fkey: events(user_id) → users(id)", check.Name);
        Assert.Equal(Verdict.Failed, check.Verdict);
        Assert.Equal("1 orphan", check.Figure);
        Assert.Contains("(user_id=7)", check.Detail);
    }

    [Fact]
    public async Task Match_simple_exempts_any_null_key_and_match_full_only_an_all_null_one()
    {
        await using var scenario = await VerificationScenario.CreateAsync(postgres,
            """
            CREATE TABLE sections (course int, section int, PRIMARY KEY (course, section));
            CREATE TABLE simple_enrolments (course int, section int);
            CREATE TABLE full_enrolments (course int, section int);
            INSERT INTO sections VALUES (1, 1);
            INSERT INTO simple_enrolments VALUES (1, 1), (1, NULL), (NULL, NULL), (2, 2);
            INSERT INTO full_enrolments SELECT * FROM simple_enrolments;
            ALTER TABLE simple_enrolments ADD CONSTRAINT simple_fk FOREIGN KEY (course, section) REFERENCES sections NOT VALID;
            ALTER TABLE full_enrolments ADD CONSTRAINT full_fk FOREIGN KEY (course, section) REFERENCES sections MATCH FULL NOT VALID;
            """);

        var report = await scenario.VerifyAsync();

        var simple = Assert.Single(report.Checks, check => check.Name.StartsWith("Foreign key simple_fk", StringComparison.Ordinal));
        var full = Assert.Single(report.Checks, check => check.Name.StartsWith("Foreign key full_fk", StringComparison.Ordinal));
        Assert.Equal("1 orphan", simple.Figure);
        Assert.Contains("(course=2, section=2)", simple.Detail);
        Assert.Equal("Foreign key full_fk: full_enrolments(course, section) → sections(course, section) MATCH FULL", full.Name);
        Assert.Equal("2 orphans", full.Figure);
        Assert.Contains("(course=1, section=NULL)", full.Detail);
        Assert.Contains("(course=2, section=2)", full.Detail);
    }

    [Fact]
    public async Task Finds_an_orphan_under_a_declared_reference_with_quoted_names()
    {
        await using var scenario = (await VerificationScenario.CreateAsync(postgres,
            """
            CREATE SCHEMA school;
            CREATE TABLE school."Users" ("Id" int PRIMARY KEY);
            CREATE TABLE activity_logs (user_id int);
            INSERT INTO school."Users" VALUES (1);
            INSERT INTO activity_logs VALUES (1), (NULL), (99), (99);
            """))
            .WithFile("references.json", """[{ "from": "activity_logs(user_id)", "to": "school.\"Users\"(\"Id\")" }]""");

        var report = await scenario.VerifyAsync();

        var check = Assert.Single(report.Failures);
        Assert.Equal("Declared reference: activity_logs(user_id) → school.Users(Id)", check.Name);
        Assert.Equal("2 orphans", check.Figure);
        Assert.Equal("2 row(s) of activity_logs have no parent in school.Users, e.g. (user_id=99).", check.Detail);
    }

    [Fact]
    public async Task A_declared_reference_that_cannot_be_read_or_run_fails_its_check()
    {
        await using var scenario = (await VerificationScenario.CreateAsync(postgres, "CREATE TABLE users (id int PRIMARY KEY)"))
            .WithFile("references.json",
                """
                [
                  { "from": "activity_logs(user_id)", "to": "users(id)" },
                  { "from": "users(id, email)", "to": "users(id)" },
                  { "from": "users", "to": "users(id)" }
                ]
                """);

        var report = await scenario.VerifyAsync();

        Assert.Equal(
        [
            ("Declared reference: activity_logs(user_id) → users(id)", "the query failed with 42P01: relation \"public.activity_logs\" does not exist (at character 22)"),
            ("Declared reference: users(id, email) → users(id)", $"in {Path.Combine(scenario.VerifyDirectory, "references.json")}: \"from\" names 2 column(s) and \"to\" 1: a reference pairs them one to one"),
            ("Declared reference: users → users(id)", $"in {Path.Combine(scenario.VerifyDirectory, "references.json")}: \"from\" must be written table(column) or schema.table(column, column), not 'users'"),
        ], report.Failures.Select(check => (check.Name, check.Detail)));
    }

    const string CountsSchema =
        """
        CREATE TABLE users (id int);
        CREATE TABLE roles (id int);
        CREATE TABLE accounts (id int);
        CREATE TABLE logs (id int);
        CREATE TABLE sessions (id int);
        INSERT INTO users SELECT generate_series(1, 3);
        INSERT INTO roles SELECT generate_series(1, 2);
        INSERT INTO accounts SELECT generate_series(1, 4);
        INSERT INTO logs SELECT generate_series(1, 12);
        INSERT INTO sessions SELECT generate_series(1, 6);
        """;

    static readonly Dictionary<string, long> CountsAtBackup = new()
    {
        ["users"] = 3, ["public.roles"] = 2, ["old_accounts"] = 4, ["logs"] = 10, ["sessions"] = 5, ["tokens"] = 8,
    };

    [Fact]
    public async Task Count_rules_pass_when_met_and_unruled_changes_are_listed_for_information()
    {
        await using var scenario = (await VerificationScenario.CreateAsync(postgres, CountsSchema))
            .WithFile("counts.json", """{ "users": "unchanged", "roles": "exactly:2", "logs": "at-least:10", "accounts": "same-as:old_accounts" }""");

        var report = await scenario.VerifyAsync(CountsAtBackup);

        Assert.True(report.Passed);
        Assert.Equal(
        [
            ("Row count: users unchanged", "3 rows", Verdict.Passed, "3 at backup"),
            ("Row count: roles exactly:2", "2 rows", Verdict.Passed, "expected exactly 2"),
            ("Row count: logs at-least:10", "12 rows", Verdict.Passed, "expected at least 10"),
            ("Row count: accounts same-as:old_accounts", "4 rows", Verdict.Passed, "old_accounts had 4 at backup"),
            ("Row counts without a rule", "3 changed", Verdict.Informational, "old_accounts 4 → table gone; sessions 5 → 6; tokens 8 → table gone"),
        ], report.Checks.Where(check => check.Name.StartsWith("Row count", StringComparison.Ordinal)).Select(check => (check.Name, check.Figure, check.Verdict, check.Detail)));
        Assert.Equal("Integrity verified: 6 checks, none failed, 1 informational.", report.Summary);
    }

    [Fact]
    public async Task Count_rules_fail_when_not_met()
    {
        await using var scenario = (await VerificationScenario.CreateAsync(postgres, CountsSchema + "INSERT INTO users VALUES (4);"))
            .WithFile("counts.json",
                """
                {
                  "users": "unchanged", "roles": "exactly:3", "logs": "at-least:20", "accounts": "same-as:logs",
                  "ghosts": "unchanged", "sessions": "about:6", "roles_v2": "same-as:roles_v1"
                }
                """);

        var report = await scenario.VerifyAsync(CountsAtBackup);

        Assert.Equal(
        [
            ("Row count: users unchanged", "4 rows", "3 at backup"),
            ("Row count: roles exactly:3", "2 rows", "expected exactly 3"),
            ("Row count: logs at-least:20", "12 rows", "expected at least 20"),
            ("Row count: accounts same-as:logs", "4 rows", "logs had 10 at backup"),
            ("Row count: ghosts unchanged", "no table", "ghosts does not exist now, but counts.json expects rows in it"),
            ("Row count: sessions about:6", "6 rows", "the rule 'about:6' is not understood: write unchanged, exactly:N, at-least:N or same-as:<table>"),
            ("Row count: roles_v2 same-as:roles_v1", "no table", "roles_v2 does not exist now, but counts.json expects rows in it"),
        ], report.Failures.Select(check => (check.Name, check.Figure, check.Detail)));
    }

    [Fact]
    public async Task A_verify_query_that_returns_rows_fails_with_the_first_rows_in_the_detail()
    {
        await using var scenario = (await VerificationScenario.CreateAsync(postgres,
            """
            CREATE TABLE grades (student int, score int, note text);
            INSERT INTO grades VALUES (7, -5, 'a|b'), (8, 70, NULL), (9, 130, NULL);
            """))
            .WithFile("scores_in_range.sql", "SELECT student, score, note FROM grades WHERE score NOT BETWEEN 0 AND 100 ORDER BY student");

        var report = await scenario.VerifyAsync();

        var check = Assert.Single(report.Failures);
        Assert.Equal("Verify query scores_in_range.sql", check.Name);
        Assert.Equal("2 rows", check.Figure);
        Assert.Equal("returned 2 row(s) that should not exist; first: (student=7, score=-5, note=a|b); (student=9, score=130, note=NULL)", check.Detail);
        Assert.Contains("| Verify query scores_in_range.sql | 2 rows | failed | returned 2 row(s) that should not exist; first: (student=7, score=-5, note=a\\|b);", report.ToMarkdown());
    }

    [Fact]
    public async Task A_verify_query_that_fails_fails_its_check_and_leaves_the_transaction_usable()
    {
        await using var scenario = (await VerificationScenario.CreateAsync(postgres, "CREATE TABLE grades (student int); INSERT INTO grades VALUES (1);"))
            .WithFile("a_broken.sql", "SELEC student FROM grades")
            .WithFile("b_fine.sql", "SELECT student FROM grades WHERE student < 0")
            .WithFile("c_two.sql", "SELECT 1; SELECT 2;");

        var report = await scenario.VerifyAsync();
        await scenario.Connection.ExecuteAsync("INSERT INTO grades VALUES (2)", transaction: scenario.Transaction);
        await scenario.Transaction.CommitAsync();

        Assert.Equal(
        [
            ("Verify query a_broken.sql", Verdict.Failed, "the query failed with 42601: syntax error at or near \"SELEC\" (at character 1)"),
            ("Verify query b_fine.sql", Verdict.Passed, ""),
            ("Verify query c_two.sql", Verdict.Failed,
                $"{Path.Combine(scenario.VerifyDirectory, "c_two.sql")} must hold exactly one query (the rows that should not exist); put each query in a file of its own"),
        ], report.Checks.Where(check => check.Name.StartsWith("Verify query", StringComparison.Ordinal)).Select(check => (check.Name, check.Verdict, check.Detail)));
        await using var check = new NpgsqlConnection(scenario.ConnectionString);
        Assert.Equal([1, 2], await check.QueryAsync<int>("SELECT student FROM grades ORDER BY student"));
    }

    [Fact]
    public async Task A_verify_query_cannot_change_the_upgrade()
    {
        await using var scenario = (await VerificationScenario.CreateAsync(postgres, "CREATE TABLE grades (student int); INSERT INTO grades VALUES (1);"))
            .WithFile("deletes.sql", "DELETE FROM grades RETURNING student");

        var report = await scenario.VerifyAsync();

        Assert.Equal("the query failed with 25006: cannot execute DELETE in a read-only transaction", Assert.Single(report.Failures).Detail);
        Assert.Equal(1, await scenario.Connection.ExecuteScalarAsync<int>("SELECT count(*) FROM grades", transaction: scenario.Transaction));
        Assert.False(await scenario.Connection.ExecuteScalarAsync<bool>("SELECT current_setting('transaction_read_only')::bool", transaction: scenario.Transaction));
    }

    [Fact]
    public async Task Reports_the_invalid_index_a_failed_create_index_concurrently_leaves()
    {
        PostgresException? failed = null;
        await using var scenario = await VerificationScenario.CreateAsync(postgres, "CREATE TABLE other (id int PRIMARY KEY)", async connection =>
        {
            await connection.ExecuteAsync("CREATE TABLE accounts (email text); INSERT INTO accounts VALUES ('ada@example.org'), ('ada@example.org')");
            failed = await Assert.ThrowsAsync<PostgresException>(() =>
                connection.ExecuteAsync("CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email)"));
        });

        var report = await scenario.VerifyAsync();

        Assert.Equal(PostgresErrorCodes.UniqueViolation, failed!.SqlState);
        var check = Assert.Single(report.Failures);
        Assert.Equal(("Invalid indexes", "1 invalid"), (check.Name, check.Figure));
        Assert.StartsWith("accounts_email_key on accounts: drop each with DROP INDEX CONCURRENTLY", check.Detail);
    }
}
