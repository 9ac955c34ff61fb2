using System.Runtime.Versioning;
using System.Security.Cryptography;
using Npgsql;
using PgDeploy.Environments;
using PgDeploy.Postgres;
using PgDeploy.Safety;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Safety.Backup;
using static PgDeploy.Tests.Safety.Backup.SafetyTestKit;

namespace PgDeploy.Tests.Safety.Restore;

[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class SafeHarborRestoreTests(PostgresFixture postgres) : IDisposable
{
    // The database-level state a restore must carry over, by role name so the original and the restored database compare.
    const string DatabaseStateSql =
        """
        SELECT concat_ws(' | ', pg_get_userbyid(d.datdba), d.datacl::text, d.datconnlimit, d.datallowconn, pg_encoding_to_char(d.encoding),
                         d.datcollate, d.datctype, shobj_description(d.oid, 'pg_database'),
                         (SELECT string_agg(coalesce(pg_get_userbyid(NULLIF(s.setrole, 0)), '*') || ':' || s.setconfig::text, ', ' ORDER BY s.setrole)
                          FROM pg_db_role_setting s WHERE s.setdatabase = d.oid))
        FROM pg_database d WHERE d.datname = @name
        """;

    readonly BackupDirectory directory = new();

    [Theory]
    [InlineData(DumpFormat.Custom)]
    [InlineData(DumpFormat.Directory)]
    public async Task Brings_the_database_back_to_exactly_the_dump_after_a_failed_upgrade_and_keeps_the_failed_one(DumpFormat format)
    {
        var database = await postgres.CreateDatabaseAsync();
        var name = DatabaseOf(database);
        await SeedAsync(database);
        var before = await PlainDumpAsync(database);
        var settings = new BackupSettings { Directory = directory.Path, Format = format, Jobs = 2 };
        var harbor = await new SafeHarborBackup(settings).TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        var extension = await FailTheUpgradeAsync(database);
        var appRole = await FenceAsync(name);
        var fencedState = await DatabaseStateAsync(name);
        var runId = NewRunId();

        var result = await new SafeHarborRestore(settings).RestoreAsync(harbor, database, runId);

        Assert.Equal(before, await PlainDumpAsync(database));
        Assert.Equal(0, await ScalarAsync<long>(database,
            "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'upgrade_v2') + (SELECT count(*) FROM pg_proc WHERE proname = 'new_total')"));
        Assert.Equal(0, await ScalarAsync<int>(database, "SELECT count(*) FROM pg_extension WHERE extname = @extension", new { extension }));
        Assert.Equal("numeric(12,2)", await ScalarAsync<string>(database,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'app.orders'::regclass AND attname = 'total'"));
        Assert.Equal(1234L, await ScalarAsync<long>(database, "SELECT last_value FROM app.invoice_number"));
        Assert.Equal(fencedState, await DatabaseStateAsync(name));
        Assert.Contains($"{appRole}:{{work_mem=8MB}}", fencedState);
        Assert.Contains("default_transaction_read_only=on", fencedState);
        // The restored database is fenced as the original was: its new sessions are read-only.
        Assert.Equal("on", await ScalarAsync<string>(database, "SHOW default_transaction_read_only"));

        var failed = RestoreNames.Failed(name, runId);
        Assert.Equal((name, failed, $"DROP DATABASE \"{failed}\";"), (result.Database, result.FailedDatabase, result.DropFailedDatabaseSql));
        Assert.True(result.FailedDatabaseSizeBytes > 0);
        Assert.Equal(1, await ScalarAsync<int>(DatabaseAdmin.WithDatabase(database, failed), "SELECT count(*) FROM upgrade_v2.audit"));
        Assert.False(await DatabaseAdmin.ExistsAsync(postgres.ServerConnectionString, RestoreNames.Restoring(name, runId)));
        Assert.Equal(harbor.Manifest.RowCounts, result.RowCounts);
        Assert.True(await ScalarAsync<long>(database, "SELECT count(*) FROM pg_stats WHERE schemaname = 'app' AND tablename = 'accounts'") > 0);
        await DatabaseAdmin.DropDatabaseAsync(postgres.ServerConnectionString, failed);
    }

    [Fact]
    public async Task Refuses_a_damaged_or_truncated_dump_before_anything_changes()
    {
        var database = await postgres.CreateDatabaseAsync();
        var name = DatabaseOf(database);
        await SeedAsync(database);
        var settings = new BackupSettings { Directory = directory.Path };
        var flipped = await new SafeHarborBackup(settings).TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        var truncated = await new SafeHarborBackup(settings).TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        FlipOneByte(flipped.DumpPath);
        Truncate(truncated.DumpPath);
        await FailTheUpgradeAsync(database);
        var failedUpgrade = await PlainDumpAsync(database);
        var runId = NewRunId();

        var damaged = await Assert.ThrowsAsync<DeploymentException>(() => new SafeHarborRestore(settings).RestoreAsync(flipped, database, runId));
        var shortened = await Assert.ThrowsAsync<DeploymentException>(() => new SafeHarborRestore(settings).RestoreAsync(truncated, database, runId));

        Assert.Contains("is damaged: its SHA-256", damaged.Message);
        Assert.Contains("(truncated)", shortened.Message);
        Assert.All(new[] { damaged, shortened }, failure => Assert.Contains("Nothing was changed", failure.Message));
        Assert.Equal(failedUpgrade, await PlainDumpAsync(database));
        Assert.Equal(0, await ScalarAsync<int>(postgres.ServerConnectionString,
            "SELECT count(*) FROM pg_database WHERE datname LIKE @pattern", new { pattern = $"{name}\\_\\_%" }));
    }

    [Fact]
    public async Task A_restore_that_fails_midway_drops_the_half_restored_database_and_leaves_the_original_alone()
    {
        // A role the dump's objects belong to was dropped after the dump: pg_restore cannot give them their owner.
        var database = await postgres.CreateDatabaseAsync();
        var name = DatabaseOf(database);
        await SeedAsync(database);
        var owner = $"harbor_owner_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        await ExecuteAsync(database, $"CREATE ROLE {owner}; ALTER TABLE app.orders OWNER TO {owner}");
        var settings = new BackupSettings { Directory = directory.Path };
        var harbor = await new SafeHarborBackup(settings).TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        await ExecuteAsync(database, $"REASSIGN OWNED BY {owner} TO CURRENT_USER; DROP OWNED BY {owner}");
        await ExecuteAsync(postgres.ServerConnectionString, $"DROP ROLE {owner}");
        await FailTheUpgradeAsync(database);
        var failedUpgrade = await PlainDumpAsync(database);
        var runId = NewRunId();

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => new SafeHarborRestore(settings).RestoreAsync(harbor, database, runId));

        Assert.StartsWith($"Restoring database '{name}' from {harbor.DumpPath} failed while restoring the dump: pg_restore ", failure.Message);
        Assert.Contains($"role \"{owner}\" does not exist", failure.Message);
        Assert.Contains($"The original database '{name}' was not changed; the partly restored database '{RestoreNames.Restoring(name, runId)}' was dropped", failure.Message);
        Assert.Equal(failedUpgrade, await PlainDumpAsync(database));
        Assert.False(await DatabaseAdmin.ExistsAsync(postgres.ServerConnectionString, RestoreNames.Restoring(name, runId)));
        Assert.False(await DatabaseAdmin.ExistsAsync(postgres.ServerConnectionString, RestoreNames.Failed(name, runId)));
    }

    [Fact]
    public async Task Ends_the_sessions_left_on_the_database_and_can_drop_the_failed_one_instead_of_keeping_it()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        var settings = new BackupSettings { Directory = directory.Path };
        var harbor = await new SafeHarborBackup(settings).TakeAsync(database, EnvironmentName, "0.3", NewRunId());
        var runId = NewRunId();
        await using var leftOver = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database) { Pooling = false }.ConnectionString);
        await leftOver.OpenAsync();

        var result = await new SafeHarborRestore(settings).RestoreAsync(harbor, database, runId, dropFailedDatabase: true);

        Assert.Null(result.FailedDatabase);
        Assert.False(await DatabaseAdmin.ExistsAsync(postgres.ServerConnectionString, RestoreNames.Failed(DatabaseOf(database), runId)));
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => new NpgsqlCommand("SELECT 1", leftOver).ExecuteScalarAsync());
        Assert.Equal(50L, await ScalarAsync<long>(database, "SELECT count(*) FROM app.accounts"));
    }

    [Fact]
    public async Task Refuses_a_safe_harbor_of_another_database()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SeedAsync(database);
        var other = await postgres.CreateDatabaseAsync();
        var settings = new BackupSettings { Directory = directory.Path };
        var harbor = await new SafeHarborBackup(settings).TakeAsync(database, EnvironmentName, "0.3", NewRunId());

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => new SafeHarborRestore(settings).RestoreAsync(harbor, other, NewRunId()));

        Assert.Contains($"is of database '{DatabaseOf(database)}', not '{DatabaseOf(other)}'", failure.Message);
    }

    [Fact]
    public async Task Names_what_is_missing_when_the_role_may_not_restore_the_database()
    {
        var database = await postgres.CreateDatabaseAsync();
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var role = $"harbor_plain_{suffix}";
        await ExecuteAsync(postgres.ServerConnectionString, $"CREATE ROLE {role} LOGIN PASSWORD 'plain-{suffix}'");
        var asPlainRole = new NpgsqlConnectionStringBuilder(database) { Username = role, Password = $"plain-{suffix}" }.ConnectionString;

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => SafeHarborRestore.CheckPrerequisitesAsync(asPlainRole));

        Assert.StartsWith($"Role '{role}' cannot restore database '{DatabaseOf(database)}'", failure.Message);
        Assert.Contains($"CREATEDB (grant it with ALTER ROLE {role} CREATEDB)", failure.Message);
        Assert.Contains("ownership of", failure.Message);
        await SafeHarborRestore.CheckPrerequisitesAsync(database);
    }

    public void Dispose() => directory.Dispose();

    /// <summary>What a failed upgrade leaves behind: new objects, an altered column, changed rows, an advanced sequence, an extension.</summary>
    /// <returns>The extension it created.</returns>
    static async Task<string> FailTheUpgradeAsync(string database)
    {
        var extension = await ScalarAsync<string?>(database,
            "SELECT name FROM pg_available_extensions WHERE name IN ('citext', 'pgcrypto') AND installed_version IS NULL ORDER BY name LIMIT 1");
        Assert.NotNull(extension);
        await ExecuteAsync(database,
            $"""
             CREATE EXTENSION {extension};
             CREATE SCHEMA upgrade_v2;
             CREATE TABLE upgrade_v2.audit (id int, note text);
             INSERT INTO upgrade_v2.audit VALUES (1, 'half-way');
             CREATE FUNCTION app.new_total() RETURNS int LANGUAGE sql AS 'SELECT 2';
             ALTER TABLE app.orders ALTER COLUMN total TYPE numeric(14, 2);
             DELETE FROM app.orders WHERE id % 3 = 0;
             UPDATE app.accounts SET balance = 0 WHERE id <= 10;
             SELECT setval('app.invoice_number', 9999);
             """);
        return extension;
    }

    /// <summary>Database-level state as the maintenance fence and the application's setup leave it; returns the application role.</summary>
    async Task<string> FenceAsync(string database)
    {
        var appRole = $"harbor_app_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        var quoted = DatabaseAdmin.QuoteIdentifier(database);
        await ExecuteAsync(postgres.ServerConnectionString,
            $"""
             CREATE ROLE {appRole};
             ALTER DATABASE {quoted} SET default_transaction_read_only = on;
             ALTER DATABASE {quoted} SET search_path = "$user", app, 'odd "schema"';
             ALTER DATABASE {quoted} SET statement_timeout = '5min';
             ALTER ROLE {appRole} IN DATABASE {quoted} SET work_mem = '8MB';
             REVOKE ALL ON DATABASE {quoted} FROM PUBLIC;
             GRANT CONNECT ON DATABASE {quoted} TO {appRole} WITH GRANT OPTION;
             GRANT TEMPORARY ON DATABASE {quoted} TO PUBLIC;
             ALTER DATABASE {quoted} CONNECTION LIMIT 42;
             COMMENT ON DATABASE {quoted} IS 'the school''s data \ with a backslash';
             """);
        return appRole;
    }

    Task<string> DatabaseStateAsync(string database) => ScalarAsync<string>(postgres.ServerConnectionString, DatabaseStateSql, new { name = database });
}
