using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using CliWrap.Buffered;

namespace PgDeploy.Postgres;

/// <summary>The server programs of one PostgreSQL installation; they must come from one directory so their versions match.</summary>
public sealed record ServerBinaries(string Directory, int MajorVersion)
{
    public string InitDb => Path.Combine(Directory, "initdb");
    public string PgCtl => Path.Combine(Directory, "pg_ctl");
    public string Postgres => Path.Combine(Directory, "postgres");
}

/// <summary>A client program such as pg_dump, pg_restore or psql.</summary>
public sealed record ClientTool(string Name, string Path, int MajorVersion);

/// <summary>Finds PostgreSQL programs on PATH and under /usr/lib/postgresql/*/bin (the Debian layout), by major version.</summary>
public static partial class PostgresBinaries
{
    private const string DebianRoot = "/usr/lib/postgresql";
    private static readonly string[] ServerPrograms = ["initdb", "pg_ctl", "postgres"];

    /// <summary>The highest installed major, or exactly <paramref name="majorVersion"/> when given (an existing data directory needs its own major).</summary>
    public static async Task<ServerBinaries> FindServerAsync(int? majorVersion = null, CancellationToken cancellationToken = default)
    {
        var found = new List<ServerBinaries>();
        // A PATH entry may hold only symlinks (e.g. /usr/local/bin/initdb); the real directory must hold all three programs.
        var directories = SearchDirectories()
            .Select(directory => Path.Combine(directory, "initdb"))
            .Where(File.Exists)
            .Select(initDb => Path.GetDirectoryName(ResolveLinks(initDb))!)
            .Where(directory => ServerPrograms.All(program => File.Exists(Path.Combine(directory, program))))
            .Distinct();
        foreach (var directory in directories)
        {
            var binaries = new ServerBinaries(directory, 0);
            if (await ReadMajorVersionAsync(binaries.Postgres, cancellationToken) is { } major)
            {
                found.Add(binaries with { MajorVersion = major });
            }
        }

        var wanted = majorVersion is { } exact ? found.Where(binaries => binaries.MajorVersion == exact) : found;
        return wanted.MaxBy(binaries => binaries.MajorVersion) ?? throw new PostgresSetupException(
            $"No PostgreSQL {(majorVersion is { } m ? $"{m} " : "")}server programs (initdb, pg_ctl and postgres in one directory) were found"
            + (found.Count > 0 ? $" (found only: {string.Join(", ", found.Select(b => $"{b.MajorVersion} in {b.Directory}"))})" : "")
            + $"; searched {DescribeSearch()}. Install them with `apt-get install postgresql{(majorVersion is { } wantedMajor ? $"-{wantedMajor}" : "")}`"
            + " or put their bin directory on PATH.");
    }

    /// <summary>The newest copy of a client tool; fails when it is older than <paramref name="minimumMajorVersion"/>, because pg_dump cannot dump a newer server.</summary>
    public static async Task<ClientTool> FindClientToolAsync(string name, int minimumMajorVersion = 0, CancellationToken cancellationToken = default)
    {
        var found = new List<ClientTool>();
        foreach (var path in SearchDirectories().Select(directory => Path.Combine(directory, name)).Where(File.Exists).Distinct())
        {
            if (await ReadMajorVersionAsync(path, cancellationToken) is { } major)
            {
                found.Add(new ClientTool(name, path, major));
            }
        }

        var newest = found.MaxBy(tool => tool.MajorVersion);
        var package = minimumMajorVersion > 0 ? $"postgresql-client-{minimumMajorVersion}" : "postgresql-client";
        if (newest is null)
        {
            throw new PostgresSetupException(
                $"No {name} was found; searched {DescribeSearch()}. Install it with `apt-get install {package}`.");
        }

        if (newest.MajorVersion < minimumMajorVersion)
        {
            throw new PostgresSetupException(
                $"{name} must be PostgreSQL {minimumMajorVersion} or newer to work with a PostgreSQL {minimumMajorVersion} server, "
                + $"but the newest found is {newest.MajorVersion} at {newest.Path} (searched {DescribeSearch()}). "
                + $"Install a newer one with `apt-get install {package}`.");
        }

        return newest;
    }

    /// <summary>Reads the major from output such as "pg_dump (PostgreSQL) 15.13 (Debian 15.13-1)"; 9.6 and older report 9.</summary>
    internal static int? ParseMajorVersion(string versionOutput) =>
        VersionPattern().Match(versionOutput) is { Success: true } match ? int.Parse(match.Groups[1].Value) : null;

    private static async Task<int?> ReadMajorVersionAsync(string program, CancellationToken cancellationToken) =>
        (await ReadVersionAsync(program, cancellationToken)).Output is { } version ? ParseMajorVersion(version) : null;

    /// <summary>
    /// What <c>program --version</c> printed (trimmed), or its result when it failed. Asked once per program and process: every
    /// target looks the tools up again, and each probe would start a process.
    /// </summary>
    internal static async Task<(string? Output, BufferedCommandResult? Failure)> ReadVersionAsync(string program, CancellationToken cancellationToken)
    {
        if (VersionOutputs.TryGetValue(program, out var known))
        {
            return (known, null);
        }

        var result = await ProcessRunner.RunAsync(program, ["--version"], cancellationToken);
        return result.IsSuccess ? (VersionOutputs[program] = result.StandardOutput.Trim(), null) : (null, result);
    }

    private static readonly ConcurrentDictionary<string, string> VersionOutputs = new(StringComparer.Ordinal);

    // Debian's versioned directories come first so that, at equal majors, a real binary wins over /usr/bin's pg_wrapper,
    // which picks its version anew on every call.
    private static IEnumerable<string> SearchDirectories()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var debian = Directory.Exists(DebianRoot)
            ? Directory.GetDirectories(DebianRoot).Select(version => Path.Combine(version, "bin"))
            : [];
        return debian.Concat(onPath).Where(Directory.Exists);
    }

    private static string ResolveLinks(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;

    private static string DescribeSearch() =>
        $"PATH ({Environment.GetEnvironmentVariable("PATH")}) and {DebianRoot}/*/bin";

    [GeneratedRegex(@"\(PostgreSQL\)\s+(\d+)")]
    private static partial Regex VersionPattern();
}
