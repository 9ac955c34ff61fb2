using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;
using PgDeploy.Tests.Fixtures;

namespace PgDeploy.Tests.Postgres;

[SupportedOSPlatform("linux")]
public sealed class PersistentClusterTests
{
    [Fact]
    public async Task Keeps_data_port_and_password_across_a_stop_and_start()
    {
        var clusterDirectory = Directory.CreateTempSubdirectory("pgdeploy-test-persistent-").FullName;
        LocalCluster? running = null;
        try
        {
            var first = running = await LocalCluster.StartPersistentAsync(clusterDirectory);
            await using (var connection = new NpgsqlConnection(first.ConnectionString()))
            {
                await connection.ExecuteAsync("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('written before the stop')");
                Assert.Equal("on", await connection.ExecuteScalarAsync<string>("SHOW fsync"));
            }

            var firstPid = ProcessState.PostmasterPid(first.DataDirectory);
            await first.StopAsync();
            running = null;
            Assert.False(ProcessState.IsAlive(firstPid));

            var second = running = await LocalCluster.StartPersistentAsync(clusterDirectory);
            Assert.Equal(first.Port, second.Port);
            Assert.Equal(first.Password, second.Password);
            await using (var connection = new NpgsqlConnection(second.ConnectionString()))
            {
                Assert.Equal("written before the stop", await connection.ExecuteScalarAsync<string>("SELECT note FROM kept"));
            }

            var secondPid = ProcessState.PostmasterPid(second.DataDirectory);
            var attached = await LocalCluster.StartPersistentAsync(clusterDirectory);
            Assert.Equal(secondPid, ProcessState.PostmasterPid(attached.DataDirectory));
            Assert.Contains($"{second.Port}", await File.ReadAllTextAsync(Path.Combine(clusterDirectory, "cluster.json")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
                File.GetUnixFileMode(Path.Combine(clusterDirectory, "superuser.password")));
        }
        finally
        {
            if (running is not null)
            {
                await running.StopAsync();
            }

            Directory.Delete(clusterDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Reports_pg_ctl_output_and_the_server_log_when_the_remembered_port_is_taken()
    {
        var clusterDirectory = Directory.CreateTempSubdirectory("pgdeploy-test-persistent-").FullName;
        try
        {
            var cluster = await LocalCluster.StartPersistentAsync(clusterDirectory);
            await cluster.StopAsync();
            using var squatter = new TcpListener(IPAddress.Loopback, cluster.Port);
            squatter.Start();

            var failure = await Assert.ThrowsAsync<PostgresSetupException>(() => LocalCluster.StartPersistentAsync(clusterDirectory));

            Assert.Contains("pg_ctl start failed", failure.Message);
            Assert.Contains("could not start server", failure.Message);
            Assert.Contains("could not bind IPv4 address \"127.0.0.1\"", failure.Message);
        }
        finally
        {
            Directory.Delete(clusterDirectory, recursive: true);
        }
    }

    [RootOnlyFact]
    public async Task Explains_which_directory_the_postgres_user_cannot_enter()
    {
        var privateParent = Directory.CreateTempSubdirectory("pgdeploy-test-private-").FullName;
        try
        {
            var failure = await Assert.ThrowsAsync<PostgresSetupException>(
                () => LocalCluster.StartPersistentAsync(Path.Combine(privateParent, "cluster")));

            Assert.Contains("'postgres' OS user", failure.Message);
            Assert.Contains($"chmod o+x {privateParent}", failure.Message);
        }
        finally
        {
            Directory.Delete(privateParent, recursive: true);
        }
    }
}
