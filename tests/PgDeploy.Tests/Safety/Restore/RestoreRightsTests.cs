using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using PgDeploy.Environments;
using PgDeploy.Postgres;
using PgDeploy.Safety;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;
using PgDeploy.Tests.Safety.Backup;
using static PgDeploy.Tests.Safety.Backup.SafetyTestKit;

namespace PgDeploy.Tests.Safety.Restore;

/// <summary>A runner that owns its database and may create databases, but is no superuser: what it may restore, and proof of it.</summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class RestoreRightsTests(PostgresFixture postgres) : IAsyncLifetime
{
    readonly TestRoles roles = new(postgres.ServerConnectionString);
    readonly BackupDirectory directory = new();

    [Fact]
    public async Task The_new_database_names_no_tablespace_in_pg_default_so_an_owner_with_createdb_may_create_it()
    {
        var (database, _, asRunner) = await RunnerOwnedDatabaseAsync();
        var name = DatabaseOf(database);
        await using var connection = new NpgsqlConnection(postgres.ServerConnectionString);
        await connection.OpenAsync();
        var properties = await DatabaseProperties.ReadAsync(connection, name, CancellationToken.None);

        var proven = await SafeHarborRestore.CheckPrerequisitesAsync(asRunner);

        Assert.DoesNotContain("TABLESPACE", properties.CreateStatement("copy"));
        Assert.EndsWith(" TABLESPACE \"fast disk\"", (properties with { Tablespace = "fast disk" }).CreateStatement("copy"));
        Assert.Matches($"^created and dropped '{Regex.Escape(name)}__probe_[0-9a-f]{{8}}' as the restore will; may rename '{Regex.Escape(name)}' and act as pg_database_owner$", proven);
        Assert.Empty(await ProbeDatabasesAsync(name));
    }

    [Fact]
    public async Task Refuses_a_runner_that_cannot_act_as_the_superuser_whose_default_privileges_the_dump_recreates()
    {
        var (database, runner, asRunner) = await RunnerOwnedDatabaseAsync();
        var app = await roles.CreateAsync("rights_app");
        var superuser = await ScalarAsync<string>(postgres.ServerConnectionString, "SELECT current_user");
        await ExecuteAsync(database, $"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {app}");

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => SafeHarborRestore.CheckPrerequisitesAsync(asRunner));

        Assert.Equal(
            $"Role '{runner}' cannot restore database '{DatabaseOf(database)}': pg_restore must act as '{superuser}', which holds default privileges "
            + $"for tables in schema public, and {runner} is not a member of it: recreate those default privileges as {runner} and revoke {superuser}'s "
            + $"(ALTER DEFAULT PRIVILEGES FOR ROLE {superuser} … REVOKE …). Fix that, or run as a superuser; nothing was changed.",
            failure.Message);
        Assert.Empty(await ProbeDatabasesAsync(DatabaseOf(database)));
    }

    [Fact]
    public async Task Refuses_a_runner_that_is_no_member_of_a_table_owner_also_at_restore_before_creating_anything_and_passes_once_it_is()
    {
        var (database, runner, asRunner) = await RunnerOwnedDatabaseAsync();
        var name = DatabaseOf(database);
        var other = await roles.CreateAsync("rights_other");
        await ExecuteAsync(database,
            $"""
             CREATE SCHEMA ledger AUTHORIZATION {other};
             SET ROLE {other};
             CREATE TYPE ledger.side AS ENUM ('debit', 'credit');
             CREATE DOMAIN ledger.amount AS numeric CHECK (VALUE >= 0);
             CREATE TABLE ledger.entries (id serial PRIMARY KEY, side ledger.side, amount ledger.amount);
             CREATE TABLE ledger.totals (id int);
             CREATE TABLE ledger.archive (id int);
             CREATE TABLE ledger.corrections (id int);
             CREATE VIEW ledger.debits AS SELECT id FROM ledger.entries WHERE side = 'debit';
             CREATE FUNCTION ledger.balance() RETURNS numeric LANGUAGE sql AS 'SELECT sum(amount) FROM ledger.entries';
             RESET ROLE;
             """);
        var largeObject = await ScalarAsync<long>(database, $"SET ROLE {other}; SELECT lo_create(0)::bigint");
        var settings = new BackupSettings { Directory = directory.Path };
        var harbor = await new SafeHarborBackup(settings).TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        // Only the first three names of a kind are shown; the array type of the enum, the row types and the domain's check are not objects of their own.
        var expected = $"Role '{runner}' cannot restore database '{name}': pg_restore must act as '{other}', which owns 1 schema (ledger), "
                       + "4 tables (ledger.archive, ledger.corrections, ledger.entries, …), 1 view (ledger.debits), 1 sequence (ledger.entries_id_seq), "
                       + $"1 function (ledger.balance()), 1 type (ledger.side), 1 domain (ledger.amount) and 1 large object ({largeObject}), "
                       + $"and {runner} is not a member of it: GRANT {other} TO {runner}, "
                       + $"or make {runner} their owner (ALTER … OWNER TO {runner}). Fix that, or run as a superuser; nothing was changed.";
        var runId = NewRunId();

        var probed = await Assert.ThrowsAsync<DeploymentException>(() => SafeHarborRestore.CheckPrerequisitesAsync(asRunner));
        var restored = await Assert.ThrowsAsync<DeploymentException>(() => new SafeHarborRestore(settings).RestoreAsync(harbor, asRunner, runId));

        Assert.Equal(expected, probed.Message);
        Assert.Equal(expected, restored.Message);
        Assert.False(await DatabaseAdmin.ExistsAsync(postgres.ServerConnectionString, RestoreNames.Restoring(name, runId)));
        Assert.Empty(await ProbeDatabasesAsync(name));
        await ExecuteAsync(postgres.ServerConnectionString, $"GRANT {other} TO {runner}");
        Assert.Contains(other, await SafeHarborRestore.CheckPrerequisitesAsync(asRunner));
    }

    [Fact]
    public async Task Refuses_a_table_whose_owner_may_not_create_in_its_schema_until_pg_restore_grants_that_at_the_end()
    {
        // pg_restore would fail on ALTER TABLE public.ledger OWNER TO other: "permission denied for schema public" (checked by hand on 15).
        var (database, runner, asRunner) = await RunnerOwnedDatabaseAsync();
        var other = await roles.CreateAsync("rights_other");
        await ExecuteAsync(postgres.ServerConnectionString, $"GRANT {other} TO {runner}");
        await ExecuteAsync(database, $"GRANT CREATE ON SCHEMA public TO {other}; SET ROLE {other}; CREATE TABLE public.ledger (id int); RESET ROLE");

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => SafeHarborRestore.CheckPrerequisitesAsync(asRunner));

        Assert.Contains(
            $": pg_restore gives '{other}' 1 table (ledger) in schema public before it restores the grants on that schema, and until then only its owner "
            + $"'{runner}' and the members of that role may own objects there: make '{runner}' their owner (ALTER … OWNER TO {runner}) "
            + $"or move them to a schema '{other}' owns. Fix that",
            failure.Message);
    }

    [Fact]
    public async Task A_probe_that_fails_names_the_reason_and_is_dropped()
    {
        // A setting only a superuser may set: the restore could not carry it over to the new database.
        var (database, runner, asRunner) = await RunnerOwnedDatabaseAsync();
        var name = DatabaseOf(database);
        await ExecuteAsync(postgres.ServerConnectionString, $"ALTER DATABASE {DatabaseAdmin.QuoteIdentifier(name)} SET log_min_duration_statement = 0");

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => SafeHarborRestore.CheckPrerequisitesAsync(asRunner));

        Assert.StartsWith(
            $"Role '{runner}' cannot restore database '{name}': the restore could not give its new database the original's properties: ALTER DATABASE \"{name}__probe_",
            failure.Message);
        Assert.Contains("SET \"log_min_duration_statement\" = E'0' failed: permission denied to set parameter \"log_min_duration_statement\" (", failure.Message);
        Assert.EndsWith($"(grant {runner} what that names, or change that property of '{name}'). Fix that, or run as a superuser; nothing was changed.", failure.Message);
        Assert.Empty(await ProbeDatabasesAsync(name));
    }

    [Fact]
    public async Task A_database_owner_with_createdb_but_no_superuser_takes_and_restores_its_safe_harbor()
    {
        var (database, runner, asRunner) = await RunnerOwnedDatabaseAsync();
        var name = DatabaseOf(database);
        var app = await roles.CreateAsync("rights_app");
        await ExecuteAsync(database, $"ALTER SCHEMA public OWNER TO {runner}");
        await ExecuteAsync(asRunner,
            $"""
             ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {app};
             CREATE SEQUENCE public.invoice_number START 1000;
             CREATE TABLE public.accounts (id int PRIMARY KEY, email text NOT NULL);
             CREATE TABLE public.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id int NOT NULL REFERENCES public.accounts,
                                         invoice int NOT NULL DEFAULT nextval('public.invoice_number'));
             INSERT INTO public.accounts SELECT n, 'user' || n || '@example.com' FROM generate_series(1, 20) n;
             INSERT INTO public.orders (account_id) SELECT 1 + n % 20 FROM generate_series(1, 60) n;
             """);
        await SafeHarborRestore.CheckPrerequisitesAsync(asRunner);
        var settings = new BackupSettings { Directory = directory.Path };
        var harbor = await new SafeHarborBackup(settings).TakeAsync(asRunner, EnvironmentName, "0.3", NewRunId());
        var before = await PlainDumpAsync(database);
        var originalOid = await ScalarAsync<long>(postgres.ServerConnectionString, "SELECT oid::bigint FROM pg_database WHERE datname = @name", new { name });
        await ExecuteAsync(asRunner, "DELETE FROM public.orders WHERE id > 30; CREATE TABLE public.upgrade_v2 (id int)");
        var runId = NewRunId();
        // The runner ends its own sessions; a superuser's it could not, so the test leaves none behind.
        NpgsqlConnection.ClearPool(new NpgsqlConnection(database));
        await using var leftOver = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(asRunner) { Pooling = false }.ConnectionString);
        await leftOver.OpenAsync();

        var result = await new SafeHarborRestore(settings).RestoreAsync(harbor, asRunner, runId);

        DumpAssert.Identical(before, await PlainDumpAsync(database));
        Assert.Contains($"ALTER DEFAULT PRIVILEGES FOR ROLE {runner} IN SCHEMA public GRANT SELECT ON TABLES  TO {app};", before);
        var failed = RestoreNames.Failed(name, runId);
        Assert.Equal(failed, result.FailedDatabase);
        Assert.Equal(failed, await ScalarAsync<string>(postgres.ServerConnectionString,
            "SELECT datname FROM pg_database WHERE oid = @originalOid::oid", new { originalOid }));
        Assert.Equal(runner, await ScalarAsync<string>(postgres.ServerConnectionString,
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = @name", new { name }));
        Assert.Equal(30L, await ScalarAsync<long>(DatabaseAdmin.WithDatabase(database, failed), "SELECT count(*) FROM public.orders"));
    }

    [Fact]
    public async Task A_superuser_session_the_runner_may_not_end_stops_the_swap_by_name_and_leaves_the_original()
    {
        var (database, _, asRunner) = await RunnerOwnedDatabaseAsync();
        var name = DatabaseOf(database);
        await ExecuteAsync(asRunner, "CREATE TABLE public.accounts (id int PRIMARY KEY); INSERT INTO public.accounts VALUES (1)");
        var settings = new BackupSettings { Directory = directory.Path };
        var harbor = await new SafeHarborBackup(settings).TakeAsync(asRunner, EnvironmentName, "0.3", NewRunId());
        await using var superuserSession = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(database) { Pooling = false, ApplicationName = "dba psql" }.ConnectionString);
        await superuserSession.OpenAsync();
        var runId = NewRunId();

        var failure = await Assert.ThrowsAsync<DeploymentException>(() =>
            new SafeHarborRestore(settings, new SafeHarborOptions { SessionEndTimeout = TimeSpan.FromSeconds(1) }).RestoreAsync(harbor, asRunner, runId));

        Assert.Contains("failed while swapping the restored database in: Sessions on", failure.Message);
        Assert.Contains("kept reconnecting, or were not this role's to end, for 1 s", failure.Message);
        Assert.Contains("'dba psql'", failure.Message);
        Assert.Equal(1, await new NpgsqlCommand("SELECT count(*)::int FROM public.accounts", superuserSession).ExecuteScalarAsync());
        Assert.False(await DatabaseAdmin.ExistsAsync(postgres.ServerConnectionString, RestoreNames.Restoring(name, runId)));
        Assert.False(await DatabaseAdmin.ExistsAsync(postgres.ServerConnectionString, RestoreNames.Failed(name, runId)));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await roles.DisposeAsync();
        directory.Dispose();
    }

    /// <summary>A fresh database owned by a new runner role: connection strings to it as the superuser and as the runner.</summary>
    async Task<(string Database, string Runner, string AsRunner)> RunnerOwnedDatabaseAsync()
    {
        var database = await postgres.CreateDatabaseAsync();
        var (runner, asRunner) = await roles.CreateRunnerAsync(database);
        await ExecuteAsync(postgres.ServerConnectionString, $"ALTER DATABASE {DatabaseAdmin.QuoteIdentifier(DatabaseOf(database))} OWNER TO {runner}");
        return (database, runner, asRunner);
    }

    /// <summary>Databases left under the name the rights check gives its probe.</summary>
    async Task<IEnumerable<string>> ProbeDatabasesAsync(string name)
    {
        await using var connection = new NpgsqlConnection(postgres.ServerConnectionString);
        return await connection.QueryAsync<string>("SELECT datname FROM pg_database WHERE datname LIKE @pattern", new { pattern = $"{name}\\_\\_probe\\_%" });
    }
}
