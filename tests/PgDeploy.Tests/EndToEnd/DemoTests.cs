using System.Net;
using System.Net.Sockets;
using CliWrap;
using CliWrap.Buffered;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// `./build.sh Demo`, the newcomer's first command, run as it is at a tiny scale: the local PostgreSQL, the v0.3
/// school database and API, then the real Deploy of 0.4 in a process of its own, with and without a failure.
[Collection("postgres")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DemoTests
{
    static readonly HttpClient Http = new();

    [Theory]
    [InlineData(null, "0.4")]
    [InlineData("Verify", "0.3")]
    public async Task Demo_deploys_the_school_sample_or_rolls_back_an_injected_failure_and_the_matching_api_answers(string? failure, string expectedVersion)
    {
        using var root = new BuildRoot();
        // The local cluster lives under the root and runs as the postgres OS user, which must be able to enter it.
        File.SetUnixFileMode(root.Directory, (UnixFileMode)0b111_101_101);
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        Directory.CreateSymbolicLink(Path.Combine(root.Directory, "samples"), Path.Combine(TestPaths.RepositoryRoot, "samples"));
        await File.WriteAllTextAsync(Path.Combine(root.Directory, "environments", "local.json"),
            (await File.ReadAllTextAsync(Path.Combine(TestPaths.RepositoryRoot, "environments", "local.json"))).Replace("http://127.0.0.1:5080", url));
        var launch = new BuildLaunch
        {
            Environment = "local",
            MigrationsDirectory = Path.Combine(TestPaths.RepositoryRoot, "migrations"),
            Variables = new Dictionary<string, string> { ["SCHOOL_API_URL"] = url },
        };
        try
        {
            using var demo = await BuildProgram.StartAsync(root, launch, ["Demo", "--scale", "0.001", .. failure is null ? [] : new[] { "--inject-failure", failure }]);
            var exitCode = await demo.WaitForExitAsync(TimeSpan.FromMinutes(6));

            Assert.True(exitCode == 0, demo.Output);
            // The passwords are hashed by Precompute before the fence; the summary gives the window.
            var summary = failure is null
                ? @"deployed 0\.4; maintenance window \d+\.\d s \(Precompute ran \d+\.\d s before it\)"
                : @"rolled back as injected; the v0\.3 API answers again";
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(demo.Output, summary), demo.Output);
            Assert.Contains(failure is null ? "Build succeeded on" : "Verify failed; Rollback succeeded.", demo.Output);
            Assert.Contains($"\"appVersion\":\"{expectedVersion}\"", await Http.GetStringAsync($"{url}/health"));
            Assert.Equal(expectedVersion, await DatabaseVersionAsync(root));
            // The safe harbor was a clone of the fenced database, not a dump inside the window; dumped after it, verified and dropped on success.
            var journal = new DeploymentRecords(root.Directory, "school").Journal;
            Assert.True(journal.Clone is { Gone: true }, demo.Output);
            if (failure is null)
                Assert.True(Directory.Exists(journal.SafeHarbor) || File.Exists(journal.SafeHarbor), $"DumpClone left no safe harbor:{Environment.NewLine}{demo.Output}");
        }
        finally
        {
            await StopApiAsync(root, url);
            if (Directory.Exists(Path.Combine(LocalClusterDirectory(root), "data")))
                await (await LocalCluster.StartPersistentAsync(LocalClusterDirectory(root))).StopAsync();
        }
    }

    static string LocalClusterDirectory(BuildRoot root) => Path.Combine(root.Directory, ".nuke", "temp", "postgres");

    static async Task<string> DatabaseVersionAsync(BuildRoot root)
    {
        var cluster = await LocalCluster.StartPersistentAsync(LocalClusterDirectory(root));
        await using var connection = new NpgsqlConnection(cluster.ConnectionString("school"));
        return await connection.ExecuteScalarAsync<string>(
            "SELECT version FROM pgdeploy.history WHERE success ORDER BY string_to_array(version, '.')::int[] DESC LIMIT 1") ?? "none";
    }

    static Task<BufferedCommandResult> StopApiAsync(BuildRoot root, string url) =>
        Cli.Wrap("sh")
            .WithArguments(["-c", "samples/SchoolApi/school-api.sh stop"])
            .WithWorkingDirectory(root.Directory)
            .WithEnvironmentVariables(environment => environment.Set("SCHOOL_API_URL", url))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
