using System.Globalization;

namespace PgDeploy.Bench;

/// <summary>What the figures share: the options, where things are, and the OWASP rate figure 2 measured for figure 5.</summary>
sealed class BenchContext(BenchOptions options, string repositoryRoot, string workRoot, string logDirectory, BuildProgram? build)
{
    public BenchOptions Options { get; } = options;
    public string RepositoryRoot { get; } = repositoryRoot;
    public string MigrationsDirectory => Path.Combine(RepositoryRoot, "migrations");
    public BuildProgram? Build { get; } = build;
    public string LogDirectory { get; } = logDirectory;

    /// <summary>Hashes per second of the runner at OWASP on all cores (figure 2), for figure 5's extrapolation.</summary>
    public double? OwaspRateAllCores { get; set; }

    public double? OwaspCalibration { get; set; }

    public string WorkDirectory(string figure)
    {
        var path = Path.Combine(workRoot, figure);
        Directory.CreateDirectory(path);
        return path;
    }

    public string LogFile(string name) => Path.Combine(LogDirectory, name);

    public Task<BenchCluster> StartClusterAsync() => BenchCluster.StartAsync(Options.Durable);

    public void Progress(string message) =>
        Console.WriteLine($"{DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}  {message}  (load {MachineInfo.LoadAverage()})");
}
