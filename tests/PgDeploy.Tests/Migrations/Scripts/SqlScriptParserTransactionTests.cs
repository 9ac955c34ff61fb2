using PgDeploy.Migrations.Scripts;

namespace PgDeploy.Tests.Migrations.Scripts;

public class SqlScriptParserTransactionTests
{
    const string NoTransactionFix = "put it in its own script whose first lines contain `-- deploy:no-transaction`";

    [Theory]
    [InlineData("CREATE INDEX CONCURRENTLY orders_customer ON orders (customer_id)", "CREATE INDEX CONCURRENTLY")]
    [InlineData("create unique index concurrently if not exists u on t (a)", "CREATE INDEX CONCURRENTLY")]
    [InlineData("DROP INDEX CONCURRENTLY IF EXISTS orders_customer", "DROP INDEX CONCURRENTLY")]
    [InlineData("REINDEX INDEX CONCURRENTLY orders_customer", "REINDEX ... CONCURRENTLY")]
    [InlineData("REINDEX (VERBOSE, CONCURRENTLY) TABLE orders", "REINDEX ... CONCURRENTLY")]
    [InlineData("REINDEX SCHEMA app", "REINDEX SCHEMA")]
    [InlineData("REINDEX (VERBOSE) DATABASE app", "REINDEX DATABASE")]
    [InlineData("REINDEX SYSTEM", "REINDEX SYSTEM")]
    [InlineData("VACUUM", "VACUUM")]
    [InlineData("vacuum (analyze) orders", "VACUUM")]
    [InlineData("CREATE DATABASE reports", "CREATE DATABASE")]
    [InlineData("DROP DATABASE IF EXISTS reports", "DROP DATABASE")]
    [InlineData("ALTER DATABASE reports SET TABLESPACE fast", "ALTER DATABASE ... SET TABLESPACE")]
    [InlineData("CREATE TABLESPACE fast LOCATION '/ssd'", "CREATE TABLESPACE")]
    [InlineData("DROP TABLESPACE fast", "DROP TABLESPACE")]
    [InlineData("ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM")]
    [InlineData("CREATE SUBSCRIPTION s CONNECTION 'host=a' PUBLICATION p", "CREATE SUBSCRIPTION, which creates a replication slot,")]
    [InlineData("CREATE SUBSCRIPTION s CONNECTION 'host=a' PUBLICATION p WITH (create_slot = true)", "CREATE SUBSCRIPTION, which creates a replication slot,")]
    [InlineData("DROP SUBSCRIPTION IF EXISTS s", "DROP SUBSCRIPTION of a subscription that has a replication slot")]
    [InlineData("CLUSTER", "CLUSTER without a table name")]
    [InlineData("CLUSTER VERBOSE", "CLUSTER without a table name")]
    [InlineData("CLUSTER (VERBOSE)", "CLUSTER without a table name")]
    [InlineData("ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY", "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY")]
    [InlineData("DISCARD ALL", "DISCARD ALL")]
    public void Rejects_statements_that_cannot_run_in_a_transaction_block(string statement, string name)
    {
        var script = SqlScriptParser.Parse($"-- migration 12\nSELECT 1;\n/* why */ {statement};");

        var error = Assert.Single(script.Problems);
        Assert.Equal(new ScriptProblem(3, ProblemSeverity.Error, $"{name} cannot run inside a transaction block: {NoTransactionFix}"), error);
    }

    [Theory]
    [InlineData("CREATE INDEX CONCURRENTLY i ON t (a)")]
    [InlineData("VACUUM ANALYZE t")]
    [InlineData("CREATE DATABASE reports")]
    [InlineData("ALTER SYSTEM RESET ALL")]
    [InlineData("REINDEX TABLE CONCURRENTLY t")]
    [InlineData("ALTER TYPE mood ADD VALUE 'meh'")]
    public void Accepts_them_in_a_no_transaction_script(string statement)
    {
        var script = SqlScriptParser.Parse($"-- deploy:no-transaction\n{statement};");

        Assert.Empty(script.Problems);
    }

    [Theory]
    [InlineData("CREATE INDEX idx_concurrently ON t (a)")]
    [InlineData("CREATE INDEX ON t (concurrently)")]
    [InlineData("SELECT vacuum FROM maintenance")]
    [InlineData("ALTER TABLE maintenance ADD COLUMN vacuum boolean")]
    [InlineData("-- VACUUM\nSELECT 1")]
    [InlineData("/* CREATE INDEX CONCURRENTLY */ SELECT 1")]
    [InlineData("SELECT 'VACUUM; CREATE DATABASE x'")]
    [InlineData("\"vacuum\"")]
    [InlineData("DO $$ BEGIN EXECUTE 'VACUUM'; END $$")]
    [InlineData("CLUSTER orders USING orders_pkey")]
    [InlineData("CLUSTER VERBOSE orders")]
    [InlineData("REINDEX TABLE orders")]
    [InlineData("REINDEX INDEX concurrently_built_idx")]
    [InlineData("ALTER DATABASE app SET search_path = app, public")]
    [InlineData("ALTER DATABASE app SET default_tablespace = 'fast'")]
    [InlineData("ALTER TABLESPACE fast OWNER TO admin")]
    [InlineData("ALTER TABLE measurements DETACH PARTITION measurements_2020")]
    [InlineData("CREATE SUBSCRIPTION s CONNECTION 'host=a' PUBLICATION p WITH (connect = false)")]
    [InlineData("CREATE SUBSCRIPTION s CONNECTION 'host=a' PUBLICATION p WITH (create_slot = 'off', enabled = false)")]
    [InlineData("DISCARD PLANS")]
    [InlineData("ANALYZE orders")]
    [InlineData("REFRESH MATERIALIZED VIEW CONCURRENTLY totals")]
    public void Does_not_mistake_similar_statements_for_ones_that_need_no_transaction(string statement)
    {
        Assert.Empty(SqlScriptParser.Parse(statement).Problems);
    }

    [Fact]
    public void Warns_that_a_value_added_to_an_enum_cannot_be_used_before_commit()
    {
        var script = SqlScriptParser.Parse("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh' AFTER 'ok';\nALTER TYPE point3 ADD ATTRIBUTE z int;");

        var warning = Assert.Single(script.Problems);
        Assert.Equal(
            new ScriptProblem(1, ProblemSeverity.Warning,
                $"ALTER TYPE ... ADD VALUE: the new value cannot be used before the transaction commits, so no later statement of this script can use it; {NoTransactionFix}"),
            warning);
    }

    [Theory]
    [InlineData("BEGIN", "BEGIN")]
    [InlineData("begin transaction isolation level serializable", "BEGIN")]
    [InlineData("START TRANSACTION", "START TRANSACTION")]
    [InlineData("COMMIT", "COMMIT")]
    [InlineData("commit and chain", "COMMIT")]
    [InlineData("END", "END")]
    [InlineData("ROLLBACK", "ROLLBACK")]
    [InlineData("ROLLBACK TO SAVEPOINT s", "ROLLBACK")]
    [InlineData("ABORT", "ABORT")]
    [InlineData("SAVEPOINT s", "SAVEPOINT")]
    [InlineData("RELEASE SAVEPOINT s", "RELEASE")]
    [InlineData("PREPARE TRANSACTION 'tx1'", "PREPARE TRANSACTION")]
    [InlineData("COMMIT PREPARED 'tx1'", "COMMIT PREPARED")]
    [InlineData("ROLLBACK PREPARED 'tx1'", "ROLLBACK PREPARED")]
    public void Rejects_transaction_control_in_any_script(string statement, string name)
    {
        const string message = "is transaction control, which a migration script must not contain: remove it: the runner wraps the script in its transaction; "
            + "use -- deploy:no-transaction for work that must commit on its own";

        foreach (var header in new[] { "", "-- deploy:no-transaction\n" })
        {
            var script = SqlScriptParser.Parse($"{header}SELECT 1;\n  {statement};\nSELECT 2;");

            var error = Assert.Single(script.Problems);
            Assert.Equal(new ScriptProblem(header.Length == 0 ? 2 : 3, ProblemSeverity.Error, $"{name} {message}"), error);
        }
    }

    [Fact]
    public void Does_not_mistake_begin_and_commit_inside_routine_bodies_for_transaction_control()
    {
        var script = SqlScriptParser.Parse("""
            DO $$
            BEGIN
                UPDATE accounts SET balance = 0;
                COMMIT;
            END $$;
            CREATE PROCEDURE reset() LANGUAGE plpgsql AS $body$
            BEGIN
                ROLLBACK;
            END
            $body$;
            CREATE FUNCTION one() RETURNS int LANGUAGE sql
            BEGIN ATOMIC
                SELECT 1;
            END;
            PREPARE fetch_account(int) AS SELECT * FROM accounts WHERE id = $1;
            SELECT 'BEGIN; COMMIT;';
            SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
            """);

        Assert.Empty(script.Problems);
        Assert.Equal(6, script.Statements.Count);
    }
}
