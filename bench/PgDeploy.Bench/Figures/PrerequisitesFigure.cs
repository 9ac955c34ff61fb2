using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using School;

namespace PgDeploy.Bench.Figures;

/// <summary>
/// Figure 7: what the checks before the fence cost (issue 10): `Prerequisites --version 0.4` on the v0.3 sample, with squawk's lint,
/// the data checks derived from every pending statement and the window estimate, beside psql reading every row of every table
/// once, and beside the window of the `Deploy --version 0.4` that follows in the same run. The claim to hold: a small fraction
/// of the window they protect.
/// </summary>
sealed partial class PrerequisitesFigure(BenchContext context)
{
    const string Database = "school";
    const string Template = "school_v03";

    /// The checks of issue 10, and the one that reads every row already (for scale).
    static readonly string[] Checks = ["lint", "data checks", "window estimate", "constraints hold"];

    public async Task<FigureResult> RunAsync()
    {
        var options = context.Options;
        var figure = new FigureResult("prerequisites", $"7. The checks before the fence: Prerequisites against the window it protects (sample scale {Format.Invariant2(options.Scale)})");
        var build = context.Build ?? throw new InvalidOperationException("The build program was not found: build the bench (it builds _build too) or pass --build-dll.");
        var work = context.WorkDirectory("prerequisites");
        await using var cluster = await context.StartClusterAsync();
        var (_, generate, report) = await SchoolSample.CreateAtV03Async(cluster, Template, context.MigrationsDirectory, options.Scale, options.Seed);
        await WindowFigure.CreateApplicationRoleAsync(cluster, Template);
        figure.Setup.Add($"database: v0.3 school sample, {report.RowsOf("users"):N0} users, {Files.MiB(await cluster.DatabaseSizeAsync(Template)):N0} MiB; generated once in "
                         + $"{Format.Seconds(generate.TotalSeconds)}; each run checks, then deploys, a fresh copy (CREATE DATABASE … TEMPLATE, not timed)");
        figure.Setup.Add($"`Prerequisites --version 0.4`, then `Deploy --version 0.4` (Precompute first, {Argon2Parameters.ProfileVariable}=test), in one root; "
                         + "raw: `psql -X -c 'SELECT count(*) FROM <t>; …'` over every table of the database");

        var settingsJson = $$"""
            {
              "description": "PgDeploy benchmark",
              "production": false,
              "backup": { "directory": "backups", "format": "custom", "keep": 2 },
              "fence": { "roles": ["{{WindowFigure.AppRole}}"], "sessionDrainTimeout": "15s" }
            }
            """;
        var variables = new Dictionary<string, string?> { [Argon2Parameters.ProfileVariable] = "test" };
        var psql = await RawTool.FindAsync("psql");
        for (var run = 1; run <= options.Repeat; run++)
        {
            context.Progress($"prerequisites run {run}/{options.Repeat}");
            await cluster.CreateDatabaseAsync(Database, Template);
            await cluster.CheckpointAsync();
            using var root = new BenchRoot(work, $"prerequisites-{run}", settingsJson);
            string[] version = ["--version", "0.4", "--migrations-dir", context.MigrationsDirectory];

            await using (var connection = await cluster.OpenAsync(Database))
            {
                var tables = await Dapper.SqlMapper.QueryAsync<string>(connection,
                    "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1");
                var counts = string.Join(" ", tables.Select(table => $"SELECT count(*) FROM {table};"));
                figure.Measure("raw: psql count(*) of every table (reads every row once)", Side.Raw)
                    .Add((await RawTool.RunAsync(psql, ["-X", "-q", "-o", "/dev/null", "-c", counts], cluster.LibpqEnvironment(Database))).TotalSeconds);
            }

            if (run == 1)
            {
                // What an operator reads before the night: the plan with every finding and estimate, kept beside the results.
                var planLog = context.LogFile("plan.log");
                var (planned, _) = await build.RunAsync(root, ["Plan", .. version], cluster.ConnectionString(Database), variables, planLog);
                if (planned != 0)
                    throw new InvalidOperationException($"Plan exited with {planned}; see {planLog}.");
                figure.Notes.Add($"`Plan --version 0.4` output: {planLog}");
            }

            var checkLog = context.LogFile($"prerequisites-{run}.log");
            var (checkedExit, checkedElapsed) = await build.RunAsync(root, ["Prerequisites", .. version], cluster.ConnectionString(Database), variables, checkLog);
            if (checkedExit != 0)
                throw new InvalidOperationException($"Prerequisites exited with {checkedExit}; see {checkLog}.");
            figure.Measure("Prerequisites --version 0.4 (whole process, dotnet start → exit)", Side.PgDeploy).Add(checkedElapsed.TotalSeconds);
            var parts = CheckDurations(Path.Combine(root.Directory, ".nuke", "temp", "build.log"));
            foreach (var check in Checks)
                figure.Measure($"  check '{check}'", Side.Part).Add(parts.TryGetValue(check, out var seconds) ? seconds.Seconds : double.NaN);
            if (run == 1)
                figure.Notes.AddRange(Checks.Where(parts.ContainsKey).Select(check => $"{check}: {parts[check].Figure}"));

            var deployLog = context.LogFile($"prerequisites-{run}-deploy.log");
            var (deployed, _) = await build.RunAsync(root, ["Deploy", .. version], cluster.ConnectionString(Database), variables, deployLog);
            if (deployed != 0)
                throw new InvalidOperationException($"Deploy exited with {deployed}; see {deployLog}.");
            figure.Measure("window of the Deploy that follows (fence up → fence down)", Side.PgDeploy).Add(WindowOf(root.JournalFile(Database)));
            figure.Measure("  the scripts' estimate (check 'window estimate')", Side.Part).Add(EstimateOf(parts["window estimate"].Figure));
            figure.Measure("  Migrate of that Deploy (report.json), the scripts' measured time", Side.Part).Add(RehearsalFigure.MeasuredTargets(root.JournalFile(Database))["Migrate"]);
            await cluster.DropDatabaseAsync(Database);
            await cluster.DropDatabasesLikeAsync(Database + "__");
        }

        var checks = figure.Measurements.Where(measurement => measurement.Label.StartsWith("  check 'lint'") || measurement.Label.StartsWith("  check 'data checks'") || measurement.Label.StartsWith("  check 'window estimate'")).ToList();
        var issue10 = Enumerable.Range(0, options.Repeat).Select(run => checks.Sum(measurement => measurement.Values[run])).ToList();
        var window = figure.Get("window of the Deploy that follows (fence up → fence down)").Values;
        figure.Derive("lint + data checks + window estimate ÷ window", $"{Median(issue10.Zip(window, (part, whole) => part / whole).ToList()) * 100:0.#} %");
        figure.Derive("the scripts' estimate ÷ their measured Migrate", $"{Median(figure.Get("  the scripts' estimate (check 'window estimate')").Values.Zip(figure.Get("  Migrate of that Deploy (report.json), the scripts' measured time").Values, (estimate, measured) => estimate / measured).ToList()):0.##}×");
        figure.Derive("lint + data checks + window estimate ÷ psql reading every row", $"{Median(issue10.Zip(figure.Get("raw: psql count(*) of every table (reads every row once)").Values, (part, raw) => part / raw).ToList()):0.##}×");
        return figure;
    }

    /// "scripts est. 29.5 s inside the fence …" in seconds.
    static double EstimateOf(string figure)
    {
        var match = Estimate().Match(figure);
        var value = double.Parse(match.Groups["value"].Value.Replace(",", ""), CultureInfo.InvariantCulture);
        return match.Groups["unit"].Value switch { "ms" => value / 1000, "min" => value * 60, _ => value };
    }

    [GeneratedRegex(@"scripts est\. (?<value>[0-9.,]+) (?<unit>ms|s|min) ")]
    private static partial Regex Estimate();

    static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// Each check's time from the build log: from the line before it (the previous check's, or the target's start) to its own.
    static Dictionary<string, (double Seconds, string Figure)> CheckDurations(string buildLog)
    {
        var result = new Dictionary<string, (double, string)>();
        TimeSpan? previous = null;
        foreach (var line in File.ReadLines(buildLog))
        {
            var match = CheckLine().Match(line);
            if (!match.Success)
                continue;
            var at = TimeSpan.ParseExact(match.Groups["at"].Value, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture);
            if (match.Groups["check"].Success)
            {
                if (previous is { } before)
                    result[match.Groups["check"].Value] = ((at - before).TotalSeconds, match.Groups["figure"].Value);
                previous = at;
            }
            previous ??= at;
        }
        return result;
    }

    [GeneratedRegex(@"^(?<at>\d\d:\d\d:\d\d\.\d{3}) \| I \| Prerequisites\s+\|\s+(?:(?:ok|FAIL)\s+(?<check>[^:]+): (?<figure>.*)|.*)$")]
    private static partial Regex CheckLine();

    static double WindowOf(string journalFile)
    {
        using var journal = JsonDocument.Parse(File.ReadAllText(journalFile));
        return (journal.RootElement.GetProperty("fenceLiftedAt").GetDateTimeOffset() - journal.RootElement.GetProperty("fenceRaisedAt").GetDateTimeOffset()).TotalSeconds;
    }
}
