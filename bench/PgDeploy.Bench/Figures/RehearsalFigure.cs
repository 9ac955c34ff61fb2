using System.Globalization;
using System.Text.Json;
using PgDeploy.Rehearsals;
using School;

namespace PgDeploy.Bench.Figures;

/// <summary>
/// Figure 6: how well `Rehearse --version 0.4` predicts the window of the `Deploy --version 0.4` that follows it, on the same v0.3
/// database: the rehearsal's predicted window and targets (from rehearsal.json) against the deployment's measured ones (from
/// report.json), both run by the real build program. The claim to hold is "within 20 %".
/// </summary>
sealed class RehearsalFigure(BenchContext context)
{
    const string Database = "school";
    const string Template = "school_v03";

    /// The targets the predicted window sums, in Deploy's order.
    static readonly string[] Window = ["MaintenanceOn", "Backup", "Migrate", "PostProcess", "Verify", "Restart"];

    public async Task<FigureResult> RunAsync()
    {
        var options = context.Options;
        var figure = new FigureResult("rehearsal", $"6. Rehearsal's predicted window against the deployment's measured one (sample scale {Format.Invariant2(options.Scale)})");
        var build = context.Build ?? throw new InvalidOperationException("The build program was not found: build the bench (it builds _build too) or pass --build-dll.");
        var work = context.WorkDirectory("rehearsal");
        await using var cluster = await context.StartClusterAsync();
        var (_, generate, report) = await SchoolSample.CreateAtV03Async(cluster, Template, context.MigrationsDirectory, options.Scale, options.Seed);
        await WindowFigure.CreateApplicationRoleAsync(cluster, Template);
        var directory = options.WindowFormat == "directory";
        var jobs = directory ? options.Jobs : 1;
        figure.Setup.Add($"database: v0.3 school sample, {report.RowsOf("users"):N0} users, {Files.MiB(await cluster.DatabaseSizeAsync(Template)):N0} MiB; generated once in "
                         + $"{Format.Seconds(generate.TotalSeconds)}; each run rehearses, then deploys, a fresh copy (CREATE DATABASE … TEMPLATE, not timed)");
        figure.Setup.Add($"environments/bench.json as figure 5 ({options.WindowFormat} format, {jobs} job(s)); no hooks, so rehearsal.maintenanceOnAllowance and "
                         + "restartAllowance are 0s: MaintenanceOn only raises the fence here, and Restart only lifts it");
        figure.Setup.Add($"`Rehearse --version 0.4`, then `Deploy --version 0.4`, in one root, with {Argon2Parameters.ProfileVariable}=test; the scratch copy is on the same server");

        var settingsJson = $$"""
            {
              "description": "PgDeploy benchmark",
              "production": false,
              "backup": { "directory": "backups", "format": "{{options.WindowFormat}}", "jobs": {{jobs}}, "keep": 2 },
              "fence": { "roles": ["{{WindowFigure.AppRole}}"], "sessionDrainTimeout": "15s" },
              "rehearsal": { "maintenanceOnAllowance": "0s", "restartAllowance": "0s" }
            }
            """;
        var variables = new Dictionary<string, string?> { [Argon2Parameters.ProfileVariable] = "test" };
        for (var run = 1; run <= options.WindowRuns; run++)
        {
            context.Progress($"rehearsal run {run}/{options.WindowRuns}");
            await cluster.CreateDatabaseAsync(Database, Template);
            await cluster.CheckpointAsync();
            using var root = new BenchRoot(work, $"rehearse-{run}", settingsJson);
            string[] version = ["--version", "0.4", "--migrations-dir", context.MigrationsDirectory];
            var rehearseLog = context.LogFile($"rehearsal-{run}-rehearse.log");
            var (rehearsed, rehearseElapsed) = await build.RunAsync(root, ["Rehearse", .. version], cluster.ConnectionString(Database), variables, rehearseLog);
            if (rehearsed != 0)
                throw new InvalidOperationException($"Rehearse exited with {rehearsed}; see {rehearseLog}.");
            await cluster.CheckpointAsync();
            var deployLog = context.LogFile($"rehearsal-{run}-deploy.log");
            var (deployed, _) = await build.RunAsync(root, ["Deploy", .. version], cluster.ConnectionString(Database), variables, deployLog);
            if (deployed != 0)
                throw new InvalidOperationException($"Deploy exited with {deployed}; see {deployLog}.");

            var journalFile = root.JournalFile(Database);
            var record = RehearsalRecord.Load(Path.Combine(Path.GetDirectoryName(journalFile)!, RehearsalRecord.FileName))
                         ?? throw new InvalidOperationException("Rehearse left no rehearsal.json.");
            var measured = MeasuredTargets(journalFile);
            var predicted = record.PredictedWindowSeconds;
            var actual = Window.Sum(target => measured[target]);
            figure.Measure("predicted window (rehearsal.json: MaintenanceOn + Backup + Migrate + PostProcess + Verify + Restart)", Side.PgDeploy).Add(predicted);
            figure.Measure("measured window (report.json: the same six targets of the Deploy)", Side.PgDeploy).Add(actual);
            figure.Measure("predicted ÷ measured", Side.Part, unit: "×").Add(predicted / actual);
            foreach (var target in Window.Skip(1).Take(4))
            {
                figure.Measure($"  {target}: predicted", Side.Part).Add(record.Targets.Single(predictedTarget => predictedTarget.Name == target).Seconds);
                figure.Measure($"  {target}: measured", Side.Part).Add(measured[target]);
            }
            figure.Measure("  the rehearsal's restore of its dump into the scratch database", Side.Part).Add(record.RestoreSeconds ?? double.NaN);
            figure.Measure("  whole Rehearse process (dotnet start → exit)", Side.Part).Add(rehearseElapsed.TotalSeconds);
            await cluster.DropDatabaseAsync(Database);
            await cluster.DropDatabasesLikeAsync(Database + "__");
        }

        var ratios = figure.Get("predicted ÷ measured").Values;
        figure.Derive("largest miss of the predicted window", $"{ratios.Max(ratio => Math.Abs(ratio - 1)) * 100:0} %",
            ratios.All(ratio => Math.Abs(ratio - 1) <= 0.2) ? "within 20 % in every run" : "NOT within 20 % in every run");
        figure.Notes.Add("The rehearsal times Backup as its own pg_dump of the live database (no fence), and Migrate, PostProcess and Verify on the restored "
                         + "scratch copy, vacuumed and analyzed after the restore: no bloat, fresh statistics, hint bits and visibility map set.");
        return figure;
    }

    /// Each target's duration in the deployment's report.json.
    internal static Dictionary<string, double> MeasuredTargets(string journalFile)
    {
        using var journal = JsonDocument.Parse(File.ReadAllText(journalFile));
        var reportFile = Path.Combine(Path.GetDirectoryName(journalFile)!, journal.RootElement.GetProperty("runId").GetString()!, "report.json");
        using var report = JsonDocument.Parse(File.ReadAllText(reportFile));
        return report.RootElement.GetProperty("targets").EnumerateArray().ToDictionary(
            target => target.GetProperty("name").GetString()!,
            target => TimeSpan.Parse(target.GetProperty("duration").GetString()!, CultureInfo.InvariantCulture).TotalSeconds);
    }
}
