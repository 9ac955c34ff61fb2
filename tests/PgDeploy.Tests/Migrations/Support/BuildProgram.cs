using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using CliWrap;
using CliWrap.Buffered;
using CliWrap.Builders;

namespace PgDeploy.Tests.Migrations.Support;

/// <summary>A real build program (build/_build.csproj by default), compiled once per test run and started as `dotnet _build.dll ...`.</summary>
internal static class BuildProgram
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Built = new();

    /// <summary>The school's build, which most tests start.</summary>
    public static string SchoolBuild => Path.Combine(TestPaths.RepositoryRoot, "build", "_build.csproj");

    /// <summary>An application's own build with the upgrade as components (tests/AppBuild).</summary>
    public static string AppBuild => Path.Combine(TestPaths.RepositoryRoot, "tests", "AppBuild", "AppBuild.csproj");

    /// <summary>Starts the build program in <paramref name="root"/> with DATABASE_URL_CI_CLI set in its environment only.</summary>
    public static Task<BuildProcess> StartAsync(BuildRoot root, string connectionString, params string[] arguments) =>
        StartAsync(root, new BuildLaunch { ConnectionString = connectionString }, arguments);

    /// <summary>Starts the build program in <paramref name="root"/> as <paramref name="launch"/> says, with <paramref name="arguments"/> before its own.</summary>
    public static async Task<BuildProcess> StartAsync(BuildRoot root, BuildLaunch launch, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root.Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var migrations = launch.MigrationsDirectory ?? root.Migrations.Directory;
        var program = await PathAsync(launch.Project);
        foreach (var argument in (string[])[program, .. arguments, "--root", root.Directory, "--target-env", launch.Environment, "--migrations-dir", migrations])
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Set for the environment the build deploys to, or left out entirely: the test host's own value must never leak in.
        var connectionVariable = BuildLaunch.ConnectionVariable(launch.Environment);
        startInfo.Environment.Remove(connectionVariable);
        if (launch.ConnectionString is { } connectionString)
        {
            startInfo.Environment[connectionVariable] = connectionString;
        }

        foreach (var (name, value) in launch.Variables)
        {
            startInfo.Environment[name] = value;
        }

        // No debugger pipes or diagnostic socket, and a temp directory of its own: a killed program cannot clean up after itself.
        startInfo.Environment["DOTNET_EnableDiagnostics"] = "0";
        startInfo.Environment["TMPDIR"] = root.TemporaryDirectory;
        return new BuildProcess(Process.Start(startInfo)!);
    }

    /// <summary>The test host's MSBuild variables removed from a child's environment: they would steer a nested dotnet build.</summary>
    public static EnvironmentVariablesBuilder WithoutTestHostMsBuild(EnvironmentVariablesBuilder environment)
    {
        foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(name => name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)))
        {
            environment.Set(name, null);
        }

        return environment;
    }

    /// <summary>The compiled program of <paramref name="project"/>, built on first use.</summary>
    public static Task<string> PathAsync(string project) => Built.GetOrAdd(project, _ => new(() => BuildAsync(project))).Value;

    private static async Task<string> BuildAsync(string project)
    {
        // No build server or MSBuild node may outlive the tests, the test host's own MSBuild variables must not steer this build,
        // and the empty directories MSBuild leaves in the temp directory go into one that is deleted afterwards.
        var temporary = Directory.CreateTempSubdirectory("pgdeploy-build-tmp-").FullName;
        BufferedCommandResult result;
        try
        {
            result = await Cli.Wrap("dotnet")
                .WithArguments(["build", project, "-nologo", "-v", "q", "-nodeReuse:false", "-p:UseSharedCompilation=false"])
                .WithEnvironmentVariables(environment => WithoutTestHostMsBuild(environment).Set("TMPDIR", temporary))
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync();
        }
        finally
        {
            Directory.Delete(temporary, recursive: true);
        }

        if (!result.IsSuccess)
        {
            throw new InvalidOperationException($"dotnet build {project} failed with exit code {result.ExitCode}:{Environment.NewLine}{result.StandardOutput}{result.StandardError}");
        }

        return Path.Combine(Path.GetDirectoryName(project)!, "bin", "Debug", "net10.0", Path.GetFileNameWithoutExtension(project) + ".dll");
    }
}

/// <summary>How a test starts the build program, beyond the targets and parameters it passes.</summary>
internal sealed record BuildLaunch
{
    /// <summary>DATABASE_URL_&lt;ENV&gt;_CLI for the child only; null leaves the variable unset, whatever the test host has.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>--target-env; the connection variable is named after it.</summary>
    public string Environment { get; init; } = BuildRoot.Environment;

    /// <summary>The build program's project; by default the school's build.</summary>
    public string Project { get; init; } = BuildProgram.SchoolBuild;

    /// <summary>--migrations-dir; by default the root's migrations folder.</summary>
    public string? MigrationsDirectory { get; init; }

    /// <summary>More variables for the child's environment, e.g. the secrets its hooks and smoke checks refer to.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();

    public static string ConnectionVariable(string environment) => $"DATABASE_URL_{environment.ToUpperInvariant().Replace('-', '_')}_CLI";
}

/// <summary>A running build program: its output, its command line as every local user sees it, and a kill that leaves nothing behind.</summary>
internal sealed class BuildProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    public BuildProcess(Process process)
    {
        this.process = process;
        process.StandardInput.Close();
        process.OutputDataReceived += (_, line) => Append(line.Data);
        process.ErrorDataReceived += (_, line) => Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>The arguments from /proc/&lt;pid&gt;/cmdline, readable by any user of the machine.</summary>
    public IReadOnlyList<string> CommandLine() => File.ReadAllText($"/proc/{Id}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The build program did not finish within {timeout}. Its output:{Environment.NewLine}{Output}");
        }

        return process.ExitCode;
    }

    /// <summary>SIGKILL: no handler of the program runs, exactly as when the machine or an operator kills it.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}

/// <summary>A repository root for the build program: .nuke/, environments/ci.json and a migrations folder, deleted afterwards.</summary>
internal sealed class BuildRoot : IDisposable
{
    public const string Environment = "ci";

    public BuildRoot()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("pgdeploy-build-root-").FullName;
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, ".nuke"));
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "environments"));
        File.WriteAllText(Path.Combine(Directory, "environments", $"{Environment}.json"), """{ "production": false }""");
        Migrations = new MigrationFolder(Path.Combine(Directory, "migrations"));
        TemporaryDirectory = System.IO.Directory.CreateDirectory(Path.Combine(Directory, "tmp")).FullName;
    }

    public string Directory { get; }

    public MigrationFolder Migrations { get; }

    /// <summary>Writes (or overwrites) environments/&lt;name&gt;.json, the settings of one target environment.</summary>
    public void WriteEnvironment(string settingsJson, string name = Environment) =>
        File.WriteAllText(Path.Combine(Directory, "environments", $"{name}.json"), settingsJson);

    /// <summary>TMPDIR of the build program, deleted with the root.</summary>
    public string TemporaryDirectory { get; }

    /// <summary>The last run's build.log: every level, where the console has Information and up.</summary>
    public string LastLog() => File.ReadAllText(Path.Combine(Directory, ".nuke", "temp", "build.log"));

    /// <summary>Everything the build program logged: build.log and the dated copies it keeps under .nuke/temp.</summary>
    public IEnumerable<string> LogFiles()
    {
        var temp = Path.Combine(Directory, ".nuke", "temp");
        return System.IO.Directory.Exists(temp) ? System.IO.Directory.GetFiles(temp, "*.log", SearchOption.AllDirectories) : [];
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
