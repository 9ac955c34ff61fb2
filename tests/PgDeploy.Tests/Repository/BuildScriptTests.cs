using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Repository;

/// <summary>
/// ./build.sh is what operators and CI run. A SIGTERM sent to it (a cancelled CI job, a stopped service, kill) must reach the
/// build program, which stops the running target and runs its failure handling, and the caller must get the program's own exit
/// code once that is done: not 143 at once while the deployment goes on, detached, and commits.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class BuildScriptTests(PostgresFixture postgres)
{
    const int Sigterm = 15;

    /// <summary>build.sh compiles the build program first, which takes a while on a cold, loaded machine.</summary>
    static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task A_SIGTERM_to_build_sh_is_one_to_the_build_program_whose_exit_code_130_comes_back_after_its_failure_handling()
    {
        using var root = new BuildRoot();
        root.Migrations.Script("0.1", "010_create_courses.sql", "CREATE TABLE courses (id serial PRIMARY KEY, title text NOT NULL);");
        // The stop hook is the first thing Deploy runs after its checks: it stands for an application that is slow to stop.
        var stopping = Path.Combine(root.Directory, "stop-hook-started");
        root.WriteEnvironment($$"""{ "production": false, "hooks": { "stop": { "command": "touch '{{stopping}}' && sleep 30", "timeout": "2min" } } }""");
        using var build = StartBuildScript(root, await postgres.CreateDatabaseAsync(),
            "Deploy", "--version", "0.1", "--target-env", BuildRoot.Environment, "--root", root.Directory, "--migrations-dir", root.Migrations.Directory);
        await WaitForAsync(() => File.Exists(stopping), build);
        var commandLine = build.CommandLine();
        var clock = Stopwatch.StartNew();

        Assert.Equal(0, kill(build.Id, Sigterm));
        var exitCode = await build.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 130, $"build.sh exited with {exitCode}, not the build program's 130 for an interrupt:{Environment.NewLine}{build.Output}");
        // exec: the pid the caller holds is the build program's itself, so every signal sent to it is the program's.
        Assert.Equal("_build.dll", Path.GetFileName(commandLine[1]));
        Assert.Equal(["Deploy", "--version", "0.1"], commandLine.Skip(2).Take(3));
        // The program stopped the hook instead of waiting out its sleep, and ended with its own summary, after its failure handling.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), $"The stop hook was not interrupted: build.sh exited {clock.Elapsed.TotalSeconds:0} s after SIGTERM.");
        Assert.Contains("Abort requested: cancelling the running target.", build.Output);
        Assert.Matches(@"Build failed on [-0-9: ]+: MaintenanceOn aborted", build.Output);
        // What build.sh prints of the compile cannot be mistaken for the deployment's outcome.
        Assert.DoesNotContain("Build succeeded", build.Output);
    }

    /// <summary>./build.sh from the repository, run in <paramref name="root"/> with the test database as the ci environment's.</summary>
    static BuildProcess StartBuildScript(BuildRoot root, string connectionString, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(Path.Combine(TestPaths.RepositoryRoot, "build.sh"))
        {
            WorkingDirectory = root.Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // The test host's own MSBuild variables must not steer build.sh's compile; what MSBuild and the program leave in the
        // temp directory goes into the root's, which is deleted.
        foreach (var name in startInfo.Environment.Keys.Where(name => name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            startInfo.Environment.Remove(name);
        }

        startInfo.Environment[BuildLaunch.ConnectionVariable(BuildRoot.Environment)] = connectionString;
        startInfo.Environment["TMPDIR"] = root.TemporaryDirectory;
        return new BuildProcess(Process.Start(startInfo)!);
    }

    static async Task WaitForAsync(Func<bool> condition, BuildProcess build)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.False(build.HasExited, $"build.sh exited before the stop hook ran:{Environment.NewLine}{build.Output}");
            Assert.True(clock.Elapsed < StartTimeout, $"The stop hook did not run within {StartTimeout}:{Environment.NewLine}{build.Output}");
            await Task.Delay(100);
        }
    }

    [DllImport("libc")]
    static extern int kill(int pid, int signal);
}
