using System.Runtime.Versioning;
using Npgsql;
using PgDeploy.Safety;
using PgDeploy.Tests.Fixtures;
using static PgDeploy.Tests.Safety.Backup.SafetyTestKit;

namespace PgDeploy.Tests.Safety.Restore;

/// <summary>Rows that break a validated constraint make a dump that pg_restore cannot load; they are found before anything changes.</summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class RestorableConstraintsTests(PostgresFixture postgres)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Refuses_orphans_written_past_a_foreign_key_on_a_partitioned_table_counting_each_once()
    {
        var database = await postgres.CreateDatabaseAsync();
        await ExecuteAsync(database,
            """
            CREATE TABLE public.accounts (id int PRIMARY KEY);
            CREATE TABLE public.events (id int, account_id int REFERENCES public.accounts, at date NOT NULL, note text) PARTITION BY RANGE (at);
            CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            INSERT INTO public.accounts SELECT generate_series(1, 3);
            INSERT INTO public.events VALUES (1, 1, '2025-03-01', 'fine'), (2, 2, '2026-03-01', 'fine');
            SET session_replication_role = replica;
            INSERT INTO public.events VALUES (3, 7, '2025-04-01', 'secret'), (4, 8, '2026-04-01', 'secret'), (5, 8, '2026-05-01', 'secret'),
                                             (6, NULL, '2026-06-01', 'no account');
            RESET session_replication_role;
            """);

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => RestorableConstraints.CheckAsync(database, Timeout, CancellationToken.None));

        Assert.StartsWith(
            $"A safe harbor of database '{DatabaseOf(database)}' would not restore: pg_restore re-checks every validated foreign key and CHECK constraint "
            + "over the rows it loads, and these do not hold: foreign key events_account_id_fkey on events: 3 rows have no parent in accounts, e.g. ",
            failure.Message);
        Assert.Contains("(account_id=7)", failure.Message);
        Assert.Contains("(account_id=8)", failure.Message);
        Assert.Contains("; delete them (DELETE FROM \"public\".\"events\" AS c WHERE c.\"account_id\" IS NOT NULL AND NOT EXISTS", failure.Message);
        Assert.Contains("or give them a parent (a foreign key on a partitioned table cannot be NOT VALID before PostgreSQL 18). Nothing was changed.", failure.Message);
        Assert.DoesNotContain("secret", failure.Message);
    }

    [Fact]
    public async Task Refuses_rows_that_fail_a_validated_check_once_per_constraint_by_key_or_by_row_address()
    {
        // Catalog damage, simulated: the constraints are added NOT VALID over rows that fail them, then marked validated.
        var database = await postgres.CreateDatabaseAsync();
        await ExecuteAsync(database,
            """
            CREATE TABLE public.orders (id int PRIMARY KEY, total numeric NOT NULL);
            INSERT INTO public.orders VALUES (1, 10), (2, -517), (3, -1), (4, 3);
            ALTER TABLE public.orders ADD CONSTRAINT positive_total CHECK (total > 0) NOT VALID;
            CREATE TABLE public.readings (at date NOT NULL, value int) PARTITION BY RANGE (at);
            CREATE TABLE public.readings_2025 PARTITION OF public.readings FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE public.readings_2026 PARTITION OF public.readings FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            INSERT INTO public.readings VALUES ('2025-02-01', 5), ('2025-03-01', -2), ('2026-02-01', -3), ('2026-03-01', NULL);
            ALTER TABLE public.readings ADD CONSTRAINT non_negative CHECK (value >= 0) NOT VALID;
            UPDATE pg_constraint SET convalidated = true WHERE conname IN ('positive_total', 'non_negative');
            """);

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => RestorableConstraints.CheckAsync(database, Timeout, CancellationToken.None));

        Assert.Contains(
            "these do not hold: check constraint positive_total on orders: 2 rows have a value that fails CHECK ((total > (0)::numeric)), e.g. ", failure.Message);
        Assert.Contains("(id=2)", failure.Message);
        Assert.Contains("(id=3)", failure.Message);
        Assert.Contains("correct or delete them (DELETE FROM \"public\".\"orders\" AS t WHERE NOT coalesce(((total > (0)::numeric)), true)), "
                        + "or keep them by re-adding the constraint NOT VALID (ALTER TABLE \"public\".\"orders\" DROP CONSTRAINT \"positive_total\", "
                        + "ADD CONSTRAINT \"positive_total\" CHECK ((total > (0)::numeric)) NOT VALID)", failure.Message);
        Assert.Contains("; check constraint non_negative on readings: 2 rows have a value that fails CHECK ((value >= 0)), e.g. ", failure.Message);
        Assert.Contains("(table=public.readings_2025, ctid=(0,2))", failure.Message);
        Assert.Contains("(table=public.readings_2026, ctid=(0,1))", failure.Message);
        Assert.EndsWith(". Nothing was changed.", failure.Message);
        // The failing value itself never appears (the database's random name may hold its digits, not its sign).
        Assert.DoesNotContain("-517", failure.Message);
    }

    [Fact]
    public async Task Passes_a_database_whose_validated_constraints_hold_and_ignores_orphans_under_a_key_that_is_not_valid()
    {
        var database = await postgres.CreateDatabaseAsync();
        await ExecuteAsync(database,
            """
            CREATE TABLE public.accounts (id int PRIMARY KEY);
            CREATE TABLE public.orders (id int PRIMARY KEY, account_id int REFERENCES public.accounts, total int CHECK (total > 0));
            CREATE TABLE public.readings (at date NOT NULL, value int CHECK (value >= 0)) PARTITION BY RANGE (at);
            CREATE TABLE public.readings_2025 PARTITION OF public.readings FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE public.legacy (id int, account_id int);
            INSERT INTO public.accounts VALUES (1), (2);
            INSERT INTO public.orders VALUES (1, 1, 5), (2, NULL, NULL);
            INSERT INTO public.readings VALUES ('2025-02-01', 5);
            INSERT INTO public.legacy VALUES (1, 99);
            ALTER TABLE public.legacy ADD CONSTRAINT legacy_account_fk FOREIGN KEY (account_id) REFERENCES public.accounts NOT VALID;
            """);

        var described = await RestorableConstraints.CheckAsync(database, Timeout, CancellationToken.None);

        Assert.Equal("1 foreign key and 2 check constraints hold over the existing rows", described);
    }

    [Fact]
    public async Task A_query_the_statement_timeout_cancels_fails_the_check_instead_of_passing_it()
    {
        var database = await postgres.CreateDatabaseAsync();
        await ExecuteAsync(database,
            "CREATE TABLE public.accounts (id int PRIMARY KEY); CREATE TABLE public.orders (id int, account_id int REFERENCES public.accounts)");
        await using var locker = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database) { Pooling = false }.ConnectionString);
        await locker.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await new NpgsqlCommand("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE", locker, transaction).ExecuteNonQueryAsync();

        var failure = await Assert.ThrowsAsync<DeploymentException>(() =>
            RestorableConstraints.CheckAsync(database, TimeSpan.FromMilliseconds(300), CancellationToken.None));

        Assert.Contains(
            "and these could not be checked, so the dump is not proven restorable: foreign key orders_account_id_fkey on orders was not checked within "
            + "the statement timeout of 0.3 s (canceling statement due to statement timeout): raise the timeout, or check when the server is less busy. "
            + "Nothing was changed.",
            failure.Message);
    }
}
