using System.Diagnostics;
using PgDeploy.Environments;
using PgDeploy.Safety;

namespace PgDeploy.Bench.Figures;

/// <summary>
/// Figure 4: time to roll back. SafeHarborRestore.RestoreAsync (verify checksum and listing, create the new database with the
/// original's properties, pg_restore into it, check the row counts, ANALYZE, carry over settings, swap the names) against a raw
/// CREATE DATABASE + pg_restore -d of the same dump, at 1 job and at --jobs.
/// </summary>
sealed class RollbackFigure(BenchContext context)
{
    public async Task<FigureResult> RunAsync()
    {
        var options = context.Options;
        var figure = new FigureResult("rollback", $"4. Time to roll back: safe-harbor restore vs raw pg_restore (sample scale {Format.Invariant2(options.Scale)})");
        var work = context.WorkDirectory("rollback");
        await using var cluster = await context.StartClusterAsync();
        const string database = "school";
        var (_, generate, report) = await SchoolSample.CreateAtV03Async(cluster, database, context.MigrationsDirectory, options.Scale, options.Seed);
        var size = await cluster.DatabaseSizeAsync(database);
        figure.Setup.Add($"database: v0.3 school sample, {report.RowsOf("users"):N0} users, {report.RowsOf("activity_logs"):N0} activity logs, "
                         + $"{Files.MiB(size):N0} MiB; generated in {Format.Seconds(generate.TotalSeconds)}");

        var harbors = new Dictionary<string, SafeHarbor>();
        foreach (var format in options.Formats)
        {
            var directory = format == "directory";
            var clock = Stopwatch.StartNew();
            var harbor = await new SafeHarborBackup(Settings(work, format, directory ? options.Jobs : 1)).TakeAsync(cluster.ConnectionString(database), "bench", "0.3", $"r{format[0]}");
            harbors[format] = harbor;
            figure.Setup.Add($"safe harbor, {format} format: {Files.MiB(harbor.Manifest.SizeBytes):0} MiB, taken in {Format.Seconds(clock.Elapsed.TotalSeconds)} (not part of the figure)");
        }
        figure.Setup.Add("each safe-harbor restore swaps the restored copy in as `school` and keeps the original as school__failed_<run>, which is dropped "
                         + "before the next run (not timed); each raw restore goes into a new database, dropped afterwards");

        var pgRestore = await RawTool.FindAsync("pg_restore");
        var variants = options.Formats.SelectMany(format => format == "custom" ? new[] { (format, 1), (format, options.Jobs) } : [(format, options.Jobs)]).Distinct().ToList();
        for (var run = 1; run <= options.Repeat; run++)
        {
            foreach (var (format, jobs) in variants)
            {
                context.Progress($"rollback run {run}/{options.Repeat}, {format} format, {jobs} job(s)");
                var label = $"{format}, {jobs} job{(jobs == 1 ? "" : "s")}";
                var harbor = harbors[format];
                var steps = new List<Func<Task>>
                {
                    async () =>
                    {
                        var runId = $"{run}{format[0]}{jobs}";
                        await cluster.CheckpointAsync();
                        var result = await new SafeHarborRestore(Settings(work, format, jobs)).RestoreAsync(harbor, cluster.ConnectionString(database), runId);
                        figure.Measure($"Rollback ({label}): SafeHarborRestore.RestoreAsync", Side.PgDeploy).Add(result.TotalDuration.TotalSeconds);
                        figure.Measure($"  verify: SHA-256 + pg_restore --list ({label})", Side.Part).Add(result.VerifyDuration.TotalSeconds);
                        figure.Measure($"  pg_restore into the new database ({label})", Side.Part).Add(result.RestoreDuration.TotalSeconds);
                        figure.Measure($"  row counts checked against the manifest ({label})", Side.Part).Add(result.CheckDuration.TotalSeconds);
                        figure.Measure($"  ANALYZE ({label})", Side.Part).Add(result.AnalyzeDuration.TotalSeconds);
                        figure.Measure($"  swap ({label})", Side.Part).Add(result.SwapDuration.TotalSeconds);
                        var rest = result.TotalDuration - result.VerifyDuration - result.RestoreDuration - result.CheckDuration - result.AnalyzeDuration - result.SwapDuration;
                        figure.Measure($"  the rest: checks, CREATE DATABASE, properties, forensic copy's size ({label})", Side.Part).Add(rest.TotalSeconds);
                        await cluster.DropDatabaseAsync(result.FailedDatabase!);
                    },
                    async () =>
                    {
                        var target = $"raw_{run}_{format}_{jobs}";
                        await cluster.CheckpointAsync();
                        var clock = Stopwatch.StartNew();
                        await cluster.CreateDatabaseAsync(target);
                        List<string> arguments = jobs > 1 ? ["-d", target, "-j", jobs.ToString(), harbor.DumpPath] : ["-d", target, harbor.DumpPath];
                        await RawTool.RunAsync(pgRestore, arguments, cluster.LibpqEnvironment("postgres"));
                        figure.Measure($"CREATE DATABASE + pg_restore -d newdb{(jobs > 1 ? $" -j {jobs}" : "")} ({format} dump)", Side.Raw).Add(clock.Elapsed.TotalSeconds);
                        await cluster.DropDatabaseAsync(target);
                    },
                };
                if (run % 2 == 0)
                    steps.Reverse();
                foreach (var step in steps)
                    await step();
            }
        }

        foreach (var (format, jobs) in variants)
        {
            var label = $"{format}, {jobs} job{(jobs == 1 ? "" : "s")}";
            var safe = figure.Get($"Rollback ({label}): SafeHarborRestore.RestoreAsync");
            var raw = figure.Get($"CREATE DATABASE + pg_restore -d newdb{(jobs > 1 ? $" -j {jobs}" : "")} ({format} dump)");
            var restore = figure.Get($"  pg_restore into the new database ({label})");
            figure.Derive($"Rollback − raw ({label}), median of the per-run differences",
                $"{Format.Seconds(Stats.Paired(safe, raw, (a, b) => a - b))} ({Format.Percent((Stats.Paired(safe, raw, (a, b) => a / b) - 1) * 100)})");
            figure.Derive($"Rollback's own work beside its pg_restore ({label}): total − its pg_restore, median",
                Format.Seconds(Stats.Paired(safe, restore, (a, b) => a - b)));
        }
        figure.Notes.Add("A CHECKPOINT precedes each restore so that none pays for the previous one's dirty buffers.");
        figure.Notes.Add("Raw pg_restore leaves the new database without statistics and under another name; the Rollback's extra time is mostly its ANALYZE and its verification.");
        return figure;
    }

    static BackupSettings Settings(string work, string format, int jobs) => new()
    {
        Directory = Path.Combine(work, "safe"),
        Format = format == "directory" ? DumpFormat.Directory : DumpFormat.Custom,
        Jobs = jobs,
        Keep = 1000,
    };
}
