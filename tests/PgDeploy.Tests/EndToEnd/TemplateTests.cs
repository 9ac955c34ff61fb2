using System.Runtime.Versioning;
using CliWrap;
using CliWrap.Buffered;
using Npgsql;
using PgDeploy.Postgres;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// What a new user does in an application's repository, for real: the packages packed from this repository, the template
/// installed from that folder, `dotnet new pgdeploy`, then the scaffold's own ./build.sh against its local throwaway
/// PostgreSQL: a first deploy, then a version that fails Verify and is rolled back.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class TemplateTests : IDisposable
{
    private readonly string workspace = Directory.CreateTempSubdirectory("pgdeploy-template-").FullName;

    private string Packages => Path.Combine(workspace, "packages");

    private string Hive => Path.Combine(workspace, "hive");

    [Fact]
    public async Task Pack_install_scaffold_deploy_then_a_failing_version_is_rolled_back()
    {
        // The initdb of the scaffold's local cluster runs as the postgres OS user, which must reach the scaffold.
        File.SetUnixFileMode(workspace, (UnixFileMode)0b111_101_101);
        // A version of this run's own: NuGet's cache would hand an earlier run's packages of the same version to the restore.
        var version = $"0.5.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

        // The build packs the repository it was built from; its own logs go under the workspace, not the repository's .nuke/temp.
        Directory.CreateDirectory(Path.Combine(workspace, ".nuke"));
        var pack = await RunAsync("dotnet", [await BuildProgram.PathAsync(BuildProgram.SchoolBuild), "Pack", "--root", workspace, "--output", Packages, "--package-version", version], workspace);
        Assert.True(pack.IsSuccess, pack.StandardOutput);
        Assert.Equal(
            new[] { "PgDeploy", "PgDeploy.Components", "PgDeploy.Templates", "TargetEngine" }.Select(id => $"{id}.{version}.nupkg"),
            Directory.GetFiles(Packages).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var install = await RunAsync("dotnet", ["new", "install", Path.Combine(Packages, $"PgDeploy.Templates.{version}.nupkg"), "--debug:custom-hive", Hive], workspace);
        Assert.True(install.IsSuccess, install.StandardOutput + install.StandardError);

        // Into a repository that already has a .gitignore and a global.json of its own, which the scaffold leaves alone.
        var repository = Directory.CreateDirectory(Path.Combine(workspace, "app")).FullName;
        File.WriteAllText(Path.Combine(repository, ".gitignore"), "dist/\n");
        File.WriteAllText(Path.Combine(repository, "global.json"), """{ "sdk": { "version": "10.0.100", "rollForward": "latestMajor" } }""");
        var scaffold = await RunAsync("dotnet", ["new", "pgdeploy", "--package-source", Packages, "--gitignore", "false", "--global-json", "false", "--debug:custom-hive", Hive], repository);
        Assert.True(scaffold.IsSuccess, scaffold.StandardOutput + scaffold.StandardError);
        Assert.Equal("dist/\n", File.ReadAllText(Path.Combine(repository, ".gitignore")));
        Assert.Contains("latestMajor", File.ReadAllText(Path.Combine(repository, "global.json")));
        Assert.Contains($"Version=\"{version}\"", File.ReadAllText(Path.Combine(repository, "build", "_build.csproj")));
        Assert.True(File.GetUnixFileMode(Path.Combine(repository, "build.sh")).HasFlag(UnixFileMode.UserExecute), "dotnet new must leave build.sh executable.");

        var deploy = await RunAsync(Path.Combine(repository, "build.sh"), ["Deploy", "--version", "0.1"], repository);
        Assert.True(deploy.ExitCode == 0, deploy.StandardOutput + deploy.StandardError);
        var cluster = await LocalCluster.StartPersistentAsync(Path.Combine(repository, ".nuke", "temp", "postgres"));
        try
        {
            // Not pooled: an idle session of the test's on the database would stop Backup from cloning it.
            var database = new NpgsqlConnectionStringBuilder(cluster.ConnectionString("app")) { Pooling = false }.ConnectionString;
            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync();
                await using var slugs = new NpgsqlCommand("SELECT string_agg(slug, ',' ORDER BY id) FROM notes", connection);
                Assert.Equal("hello-postgresql,upgrades-without-losing-a-row", await slugs.ExecuteScalarAsync());
            }

            var before = await PostgresClient.DumpWholeAsync(database, []);
            Directory.CreateDirectory(Path.Combine(repository, "migrations", "v0.2", "verify"));
            File.WriteAllText(Path.Combine(repository, "migrations", "v0.2", "010_pin_notes.sql"), "ALTER TABLE notes ADD COLUMN pinned boolean NOT NULL DEFAULT false;\n");
            File.WriteAllText(Path.Combine(repository, "migrations", "v0.2", "verify", "every_note_is_pinned.sql"), "SELECT id FROM notes WHERE NOT pinned\n");

            var failing = await RunAsync(Path.Combine(repository, "build.sh"), ["Deploy", "--version", "0.2"], repository);

            Assert.Equal(1, failing.ExitCode);
            Assert.True(failing.StandardOutput.Contains("Verify query every_note_is_pinned.sql: 2 rows", StringComparison.Ordinal), failing.StandardOutput);
            Assert.Contains("Verify failed; Rollback succeeded.", failing.StandardOutput);
            DumpAssert.Identical(before, await PostgresClient.DumpWholeAsync(database, []));
        }
        finally
        {
            await cluster.StopAsync();
        }
    }

    /// <summary>Runs a command as a user would: without the test host's MSBuild variables.</summary>
    private async Task<BufferedCommandResult> RunAsync(string program, string[] arguments, string directory) =>
        await Cli.Wrap(program)
            .WithArguments(arguments)
            .WithWorkingDirectory(directory)
            .WithEnvironmentVariables(environment => BuildProgram.WithoutTestHostMsBuild(environment).Set("DOTNET_CLI_TELEMETRY_OPTOUT", "1").Set("TMPDIR", workspace))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();

    public void Dispose() => Directory.Delete(workspace, recursive: true);
}
