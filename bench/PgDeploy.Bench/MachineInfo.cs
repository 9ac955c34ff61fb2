using System.Globalization;
using System.Runtime.InteropServices;
using CliWrap;
using CliWrap.Buffered;

namespace PgDeploy.Bench;

/// <summary>What the figures ran on; the README records it beside them.</summary>
sealed record MachineInfo
{
    public required int Cores { get; init; }
    public required string Cpu { get; init; }
    public required string Memory { get; init; }
    public required string Os { get; init; }
    public required string Kernel { get; init; }
    public required string Dotnet { get; init; }
    public required string PostgresServer { get; init; }
    public required string ClientTools { get; init; }
    public required string ClusterSettings { get; init; }
    public required string Repository { get; init; }
    public required string DateUtc { get; init; }

    public IEnumerable<(string, string)> Lines() =>
    [
        ("nproc", Cores.ToString(CultureInfo.InvariantCulture)),
        ("CPU", Cpu),
        ("memory", Memory),
        ("OS", $"{Os}, kernel {Kernel}"),
        (".NET", Dotnet),
        ("PostgreSQL server", PostgresServer),
        ("client tools", ClientTools),
        ("throwaway cluster settings", ClusterSettings),
        ("repository", Repository),
        ("date", DateUtc),
    ];

    public static async Task<MachineInfo> CollectAsync(string repositoryRoot, string postgresServer, string clientTools, string clusterSettings)
    {
        var cpuinfo = File.Exists("/proc/cpuinfo") ? File.ReadAllLines("/proc/cpuinfo") : [];
        string? Field(string[] lines, string name) => lines.FirstOrDefault(line => line.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        var model = Field(cpuinfo, "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var mhz = Field(cpuinfo, "cpu MHz");
        var memInfo = File.Exists("/proc/meminfo") ? File.ReadAllLines("/proc/meminfo") : [];
        var memTotal = Field(memInfo, "MemTotal")?.Split(' ')[0];
        var memory = long.TryParse(memTotal, out var kib) ? $"{kib / 1024.0 / 1024.0:0.0} GiB (MemTotal {kib} kB)" : "unknown";
        var osRelease = File.Exists("/etc/os-release") ? File.ReadAllLines("/etc/os-release") : [];
        var os = osRelease.FirstOrDefault(line => line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? RuntimeInformation.OSDescription;
        var commit = await GitAsync(repositoryRoot, "rev-parse", "--short", "HEAD");
        var dirty = await GitAsync(repositoryRoot, "status", "--porcelain", "--untracked-files=no");
        return new MachineInfo
        {
            Cores = Environment.ProcessorCount,
            Cpu = model + (mhz is null ? "" : $" ({mhz} MHz)") + (File.Exists("/proc/cpuinfo") ? $", {cpuinfo.Count(line => line.StartsWith("processor", StringComparison.Ordinal))} logical CPUs in /proc/cpuinfo" : ""),
            Memory = memory,
            Os = os,
            Kernel = Environment.OSVersion.Version.ToString(),
            Dotnet = RuntimeInformation.FrameworkDescription,
            PostgresServer = postgresServer,
            ClientTools = clientTools,
            ClusterSettings = clusterSettings,
            Repository = commit is null ? "(not a git checkout)" : $"commit {commit.Trim()}{(string.IsNullOrWhiteSpace(dirty) ? "" : " with uncommitted changes")}",
            DateUtc = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
        };
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    static async Task<string?> GitAsync(string directory, params string[] arguments)
    {
        try
        {
            var result = await Cli.Wrap("git").WithArguments(arguments).WithWorkingDirectory(directory)
                .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
            return result.IsSuccess ? result.StandardOutput : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
