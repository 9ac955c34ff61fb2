using System.Diagnostics;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;

namespace PgDeploy.Tests.Postgres;

public sealed class TemporaryClusterTests
{
    [Fact]
    public async Task Serves_separate_databases_and_leaves_no_process_or_directory_after_dispose()
    {
        var cluster = await LocalCluster.StartTemporaryAsync();
        var clusterDirectory = Path.GetDirectoryName(cluster.DataDirectory)!;
        int postmasterPid;
        try
        {
            postmasterPid = ProcessState.PostmasterPid(cluster.DataDirectory);
            Assert.True(ProcessState.IsAlive(postmasterPid));
            Assert.False(File.Exists(Path.Combine(clusterDirectory, "initdb.password")));

            var plain = await cluster.CreateDatabaseAsync();
            var quoted = await cluster.CreateDatabaseAsync("needs \"quoting\"; really");
            foreach (var database in new[] { plain, quoted })
            {
                await using var connection = new NpgsqlConnection(cluster.ConnectionString(database));
                await connection.OpenAsync();
                Assert.Equal(database, await connection.ExecuteScalarAsync<string>("SELECT current_database()"));
                Assert.Equal("127.0.0.1", await connection.ExecuteScalarAsync<string>("SHOW listen_addresses"));
                Assert.Equal("off", await connection.ExecuteScalarAsync<string>("SHOW fsync"));
            }
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        Assert.False(ProcessState.IsAlive(postmasterPid));
        Assert.False(Directory.Exists(clusterDirectory));
    }

    [Fact]
    public async Task Rejects_a_wrong_password_because_host_logins_use_scram()
    {
        await using var cluster = await LocalCluster.StartTemporaryAsync();
        var wrongPassword = new NpgsqlConnectionStringBuilder(cluster.ConnectionString()) { Password = "not-the-password" };

        await using var connection = new NpgsqlConnection(wrongPassword.ConnectionString);
        var failure = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());

        Assert.Equal(PostgresErrorCodes.InvalidPassword, failure.SqlState);
        await using var rightPassword = new NpgsqlConnection(cluster.ConnectionString());
        await rightPassword.OpenAsync();
        Assert.Equal("scram-sha-256", await rightPassword.ExecuteScalarAsync<string>("SHOW password_encryption"));
    }

    [Fact]
    public async Task Is_stopped_and_deleted_by_its_watchdog_when_the_owning_process_is_killed()
    {
        await using var cluster = await LocalCluster.StartTemporaryAsync();
        var clusterDirectory = Path.GetDirectoryName(cluster.DataDirectory)!;
        var postmasterPid = ProcessState.PostmasterPid(cluster.DataDirectory);
        using var owner = Process.Start("sleep", "600");
        using var watchdog = cluster.StartWatchdog(owner.Id);

        owner.Kill();
        await owner.WaitForExitAsync();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Directory.Exists(clusterDirectory) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.False(Directory.Exists(clusterDirectory));
        Assert.False(ProcessState.IsAlive(postmasterPid));
    }
}
