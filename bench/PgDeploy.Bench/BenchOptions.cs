using System.Globalization;

namespace PgDeploy.Bench;

/// <summary>The command line: one figure (or all of them) and the sizes to measure at.</summary>
sealed record BenchOptions
{
    public static readonly string[] Figures = ["overhead", "hashing", "backup", "rollback", "window", "rehearsal", "prerequisites"];

    public required string Command { get; init; }

    /// <summary>Runs of each measurement; the median, min and max are reported.</summary>
    public int Repeat { get; init; } = 3;

    /// <summary>Sample data scale of the backup, rollback and window figures (1 = 100k users, about 1 GB).</summary>
    public double Scale { get; init; } = 1;

    public int Seed { get; init; } = 20261124;

    /// <summary>Figure 1: the number of small scripts.</summary>
    public int Scripts { get; init; } = 500;

    /// <summary>Figure 2: users hashed at the OWASP parameters.</summary>
    public int Users { get; init; } = 1000;

    /// <summary>Figure 2: users hashed with the test profile, where the runner's own cost per row shows.</summary>
    public int TestUsers { get; init; } = 20000;

    /// <summary>Figure 2: passwords hashed without the database, at each degree of parallelism, for the raw rate.</summary>
    public int RawHashes { get; init; } = 200;

    /// <summary>Figures 3 and 4: which dump formats to measure.</summary>
    public IReadOnlyList<string> Formats { get; init; } = ["custom", "directory"];

    /// <summary>Parallel jobs for the directory format and for pg_restore -j.</summary>
    public int Jobs { get; init; } = 2;

    /// <summary>Figure 5: deployments that succeed, and deployments with a failure injected at Verify.</summary>
    public int WindowRuns { get; init; } = 3;

    public int FailureRuns { get; init; } = 1;

    /// <summary>Figure 5: deployments that hash inside the window (`--skip Precompute`), the path before issue 9.</summary>
    public int InlineRuns { get; init; } = 1;

    /// <summary>Figure 5: upgrades committed by `Verify` and rolled back by hand, which swaps the clone in.</summary>
    public int SwapRuns { get; init; } = 1;

    /// <summary>Figure 5: the Argon2 profile of the deployments, test or owasp.</summary>
    public string WindowProfile { get; init; } = "test";

    /// <summary>Figure 5: runs of the raw pg_dump + psql beside the Backup and Migrate targets.</summary>
    public int RawWindowRuns { get; init; } = 1;

    /// <summary>Figure 5: the safe harbor's format and jobs (the repository's prod.json uses directory with 2 jobs).</summary>
    public string WindowFormat { get; init; } = "directory";

    /// <summary>Turn fsync, synchronous_commit and full_page_writes back on in the throwaway cluster (it starts with them off).</summary>
    public bool Durable { get; init; }

    public string? ResultsDirectory { get; init; }
    public string? RepositoryRoot { get; init; }
    public string? BuildProgram { get; init; }

    /// <summary>OWASP hashes per second of the runner on all cores, to extrapolate the window when figure 2 did not run in this process.</summary>
    public double? OwaspRate { get; init; }

    public bool Runs(string figure) => Command == "all" || Command == figure;

    public const string Usage = """
        Usage: dotnet PgDeploy.Bench.dll <all|overhead|hashing|backup|rollback|window|rehearsal|prerequisites> [options]

          --repeat N          runs of each measurement (default 3); median, min and max are reported
          --scale X           sample scale of backup, rollback and window (default 1: 100k users, ~1 GB)
          --seed N            sample data seed (default 20261124)
          --scripts N         overhead: number of small scripts (default 500)
          --users N           hashing: users hashed at the OWASP parameters (default 1000)
          --test-users N      hashing: users hashed with the test profile (default 20000)
          --raw-hashes N      hashing: passwords hashed without the database per run (default 200)
          --formats LIST      backup, rollback: custom,directory (default both)
          --jobs N            jobs of the directory format and of pg_restore -j (default 2)
          --window-runs N     window: successful deployments (default 3); rehearsal: rehearsals, each followed by its Deploy
          --failure-runs N    window: deployments with --inject-failure Verify (default 1)
          --inline-runs N     window: deployments with --skip Precompute, hashing inside the window (default 1)
          --swap-runs N       window: committed upgrades rolled back by hand, swapping the clone in (default 1)
          --window-profile P  window: Argon2 profile of the deployments, test or owasp (default test)
          --raw-window-runs N window: runs of pg_dump + psql beside Backup and Migrate (default 1)
          --window-format F   window: safe-harbor format, custom or directory (default directory, jobs as --jobs, as prod.json)
          --owasp-rate R      window: OWASP hashes/s on all cores for the extrapolation (default: figure 2's, or a short calibration)
          --durable           fsync, synchronous_commit, full_page_writes on (the throwaway cluster starts with them off)
          --results DIR       where <date>.md and <date>.json go (default: bench/results of the repository)
          --repo DIR          the repository root (default: found above the current directory)
          --build-dll PATH    the build program (default: _build.dll beside this program's artifacts)
        """;

    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            throw new UsageException(Usage);
        var command = args[0].ToLowerInvariant();
        if (command != "all" && !Figures.Contains(command))
            throw new UsageException($"Unknown command '{args[0]}'.{Environment.NewLine}{Usage}");

        var options = new BenchOptions { Command = command };
        for (var index = 1; index < args.Length; index++)
        {
            var name = args[index];
            string Value() => index + 1 < args.Length ? args[++index] : throw new UsageException($"{name} needs a value.");
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
                ? value : throw new UsageException($"{name} needs a whole number.");
            double Number() => double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value : throw new UsageException($"{name} needs a positive number.");
            options = name switch
            {
                "--repeat" => options with { Repeat = Math.Max(1, Int()) },
                "--scale" => options with { Scale = Number() },
                "--seed" => options with { Seed = Int() },
                "--scripts" => options with { Scripts = Math.Max(1, Int()) },
                "--users" => options with { Users = Math.Max(1, Int()) },
                "--test-users" => options with { TestUsers = Math.Max(1, Int()) },
                "--raw-hashes" => options with { RawHashes = Math.Max(1, Int()) },
                "--formats" => options with { Formats = ParseFormats(Value()) },
                "--jobs" => options with { Jobs = Math.Max(1, Int()) },
                "--window-runs" => options with { WindowRuns = Int() },
                "--failure-runs" => options with { FailureRuns = Int() },
                "--inline-runs" => options with { InlineRuns = Int() },
                "--swap-runs" => options with { SwapRuns = Int() },
                "--window-profile" => options with { WindowProfile = ParseProfile(Value()) },
                "--raw-window-runs" => options with { RawWindowRuns = Int() },
                "--window-format" => options with { WindowFormat = ParseFormats(Value()).Single() },
                "--owasp-rate" => options with { OwaspRate = Number() },
                "--durable" => options with { Durable = true },
                "--results" => options with { ResultsDirectory = Path.GetFullPath(Value()) },
                "--repo" => options with { RepositoryRoot = Path.GetFullPath(Value()) },
                "--build-dll" => options with { BuildProgram = Path.GetFullPath(Value()) },
                _ => throw new UsageException($"Unknown option '{name}'.{Environment.NewLine}{Usage}"),
            };
        }
        return options;
    }

    static string ParseProfile(string value) =>
        value.ToLowerInvariant() is "test" or "owasp" ? value.ToLowerInvariant() : throw new UsageException($"'{value}' is not an Argon2 profile: use test or owasp.");

    static IReadOnlyList<string> ParseFormats(string value)
    {
        var formats = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(format => format.ToLowerInvariant()).Distinct().ToList();
        if (formats.Count == 0 || formats.Any(format => format is not ("custom" or "directory")))
            throw new UsageException($"'{value}' is not a list of dump formats: use custom, directory or custom,directory.");
        return formats;
    }
}

sealed class UsageException(string message) : Exception(message);
