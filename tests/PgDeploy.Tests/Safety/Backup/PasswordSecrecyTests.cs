using System.Runtime.Versioning;
using System.Security.Cryptography;
using Npgsql;
using PgDeploy.Environments;
using PgDeploy.Postgres;
using PgDeploy.Safety;
using PgDeploy.Tests.Fixtures;
using static PgDeploy.Tests.Safety.Backup.SafetyTestKit;

namespace PgDeploy.Tests.Safety.Backup;

/// <summary>The connection's password reaches pg_dump and pg_restore only through PGPASSWORD: never an argument, the manifest or a message.</summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class PasswordSecrecyTests(PostgresFixture postgres) : IDisposable
{
    readonly BackupDirectory directory = new();
    readonly string tools = Directory.CreateTempSubdirectory("pgdeploy-recording-tools-").FullName;

    [Fact]
    public async Task The_password_is_in_no_argument_of_pg_dump_or_pg_restore_nor_in_the_manifest()
    {
        var (connectionString, password) = await ConnectAsNewSuperuserAsync();
        await SeedAsync(connectionString);
        var calls = await RecordingToolsAsync("pg_dump", "pg_restore");
        var options = new SafeHarborOptions { ClientToolDirectory = tools };
        var settings = new BackupSettings { Directory = directory.Path };

        var harbor = await new SafeHarborBackup(settings, options).TakeAsync(connectionString, EnvironmentName, "0.3", NewRunId());
        await new SafeHarborRestore(settings, options).RestoreAsync(harbor, connectionString, NewRunId(), dropFailedDatabase: true);

        var recorded = await File.ReadAllTextAsync(calls);
        Assert.Contains("pg_dump --no-password --format=custom", recorded);
        Assert.Contains("pg_restore --no-password --exit-on-error", recorded);
        Assert.DoesNotContain(password, recorded);
        Assert.DoesNotContain("password=", recorded, StringComparison.OrdinalIgnoreCase);
        // The tools did get the password, from the environment.
        Assert.Contains("PGPASSWORD is set", recorded);
        Assert.DoesNotContain(password, await File.ReadAllTextAsync(harbor.ManifestPath));
    }

    [Fact]
    public async Task Failures_to_connect_or_to_dump_do_not_quote_the_password()
    {
        var (connectionString, password) = await ConnectAsNewSuperuserAsync();
        await SeedAsync(connectionString);
        var wrongPassword = $"wrong-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
        var wrong = new NpgsqlConnectionStringBuilder(connectionString) { Password = wrongPassword }.ConnectionString;
        var backup = new SafeHarborBackup(new BackupSettings { Directory = directory.Path }, new SafeHarborOptions { LockWaitTimeout = TimeSpan.FromMilliseconds(300) });

        var refused = await Assert.ThrowsAsync<DeploymentException>(() => backup.TakeAsync(wrong, EnvironmentName, "0.3", NewRunId()));

        // A session the fence missed holds a table lock: pg_dump gives up after the lock wait instead of stalling.
        await using var blocker = new NpgsqlConnection(connectionString);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await new NpgsqlCommand("LOCK TABLE app.orders IN ACCESS EXCLUSIVE MODE", blocker, transaction).ExecuteNonQueryAsync();
        var stuck = await Assert.ThrowsAsync<DeploymentException>(() => backup.TakeAsync(connectionString, EnvironmentName, "0.3", NewRunId()));

        Assert.Contains("password authentication failed", refused.Message);
        Assert.DoesNotContain(wrongPassword, refused.Message);
        Assert.True(stuck.Message.StartsWith("pg_dump ", StringComparison.Ordinal), stuck.Message);
        Assert.Contains("Query was: LOCK TABLE app.orders IN ACCESS SHARE MODE", stuck.Message);
        Assert.Contains("a session the maintenance fence missed holds a lock on that table", stuck.Message);
        Assert.DoesNotContain(password, stuck.Message);
        Assert.Empty(Directory.GetFileSystemEntries(directory.Path));
    }

    public void Dispose()
    {
        directory.Dispose();
        Directory.Delete(tools, recursive: true);
    }

    /// <summary>A superuser of its own with a password no other test uses, so finding it anywhere is a leak and not a coincidence.</summary>
    async Task<(string ConnectionString, string Password)> ConnectAsNewSuperuserAsync()
    {
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var password = $"Harbor-{suffix}-s3cret";
        await ExecuteAsync(postgres.ServerConnectionString, $"CREATE ROLE harbor_secret_{suffix} LOGIN SUPERUSER PASSWORD '{password}'");
        var database = DatabaseOf(await postgres.CreateDatabaseAsync());
        var connectionString = new NpgsqlConnectionStringBuilder(postgres.ServerConnectionString)
        {
            Username = $"harbor_secret_{suffix}", Password = password, Database = database,
        }.ConnectionString;
        return (connectionString, password);
    }

    /// <summary>
    /// Stand-ins for the client tools that write down the argument vector they were started with (what /proc/&lt;pid&gt;/cmdline
    /// shows every local user) and whether PGPASSWORD was set, then exec the real tool with the same arguments.
    /// </summary>
    async Task<string> RecordingToolsAsync(params string[] names)
    {
        var log = Path.Combine(tools, "calls.log");
        foreach (var name in names)
        {
            var real = await PostgresBinaries.FindClientToolAsync(name);
            var script = Path.Combine(tools, name);
            await File.WriteAllTextAsync(script,
                $"""
                 #!/bin/sh
                 {'{'} printf '%s' "{name}"; printf ' %s' "$@"; printf '\n'; [ -n "$PGPASSWORD" ] && echo "PGPASSWORD is set"; {'}'} >> '{log}'
                 exec '{real.Path}' "$@"
                 """);
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return log;
    }
}
