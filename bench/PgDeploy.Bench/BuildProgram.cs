using System.Diagnostics;
using System.Text;
using CliWrap;
using CliWrap.Buffered;

namespace PgDeploy.Bench;

/// <summary>The real build program (build/_build.csproj, built into the bench's artifacts path), run as `dotnet _build.dll ...`.</summary>
sealed class BuildProgram(string dll)
{
    public const string Environment = "bench";
    public const string ConnectionVariable = "DATABASE_URL_BENCH_CLI";

    public string Dll { get; } = dll;

    /// <summary>--build-dll, else the _build.dll that `dotnet build --artifacts-path` put beside this program's own folder.</summary>
    public static BuildProgram? Locate(BenchOptions options)
    {
        if (options.BuildProgram is { } given)
            return File.Exists(given) ? new BuildProgram(given) : throw new UsageException($"--build-dll {given}: no such file.");
        var here = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        // <artifacts>/bin/PgDeploy.Bench/<config>/ → <artifacts>/bin/_build/<config>/_build.dll
        var built = Path.GetFullPath(Path.Combine(here, "..", "..", "_build", Path.GetFileName(here), "_build.dll"));
        return File.Exists(built) ? new BuildProgram(built) : null;
    }

    /// <summary>Runs the program in <paramref name="root"/>; its output goes to <paramref name="logFile"/>.</summary>
    public async Task<(int ExitCode, TimeSpan Elapsed)> RunAsync(
        BenchRoot root, IReadOnlyList<string> arguments, string? connectionString, IReadOnlyDictionary<string, string?> variables, string logFile)
    {
        string[] allArguments = [Dll, .. arguments, "--root", root.Directory, "--target-env", Environment];
        var clock = Stopwatch.StartNew();
        var result = await Cli.Wrap("dotnet").WithArguments(allArguments).WithWorkingDirectory(root.Directory)
            .WithEnvironmentVariables(environment =>
            {
                // Only this run's connection, and nothing of this process's own settings that could steer the program.
                foreach (var name in System.Environment.GetEnvironmentVariables().Keys.Cast<string>()
                             .Where(name => name.StartsWith("DATABASE_URL_", StringComparison.Ordinal) || name.StartsWith("PG", StringComparison.Ordinal)
                                            || name == School.Argon2Parameters.ProfileVariable || name.StartsWith("NUKE_", StringComparison.Ordinal)))
                    environment.Set(name, null);
                environment.Set(ConnectionVariable, connectionString);
                environment.Set("DOTNET_CLI_TELEMETRY_OPTOUT", "1");
                environment.Set("DOTNET_NOLOGO", "1");
                foreach (var (name, value) in variables)
                    environment.Set(name, value);
            })
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(Encoding.UTF8);
        var elapsed = clock.Elapsed;
        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        await File.WriteAllTextAsync(logFile, $"$ dotnet {string.Join(' ', allArguments)}{System.Environment.NewLine}{result.StandardOutput}{result.StandardError}");
        return (result.ExitCode, elapsed);
    }
}

/// <summary>A repository root for the build program: .nuke/ and environments/bench.json, in a temporary directory.</summary>
sealed class BenchRoot : IDisposable
{
    public BenchRoot(string parent, string name, string settingsJson)
    {
        Directory = Path.Combine(parent, name);
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, ".nuke"));
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "environments"));
        File.WriteAllText(Path.Combine(Directory, "environments", $"{BuildProgram.Environment}.json"), settingsJson);
    }

    public string Directory { get; }

    public string DeploymentsDirectory => Path.Combine(Directory, ".nuke", "temp", "deployments");

    /// <summary>The journal of <paramref name="database"/>: the build keeps one per database, in a folder named after it and its cluster.</summary>
    public string JournalFile(string database) =>
        System.IO.Directory.GetDirectories(DeploymentsDirectory, $"{database}-*")
            .Select(folder => Path.Combine(folder, "journal.json"))
            .SingleOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"The build program left no journal of database {database} under {DeploymentsDirectory}.");

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory))
            System.IO.Directory.Delete(Directory, recursive: true);
    }
}
