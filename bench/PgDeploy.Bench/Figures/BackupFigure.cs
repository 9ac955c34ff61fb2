using System.Diagnostics;
using System.Security.Cryptography;
using PgDeploy.Environments;
using PgDeploy.Safety;

namespace PgDeploy.Bench.Figures;

/// <summary>
/// Figure 3: the safe-harbor backup (SafeHarborBackup.TakeAsync: exported snapshot, pg_dump and exact row counts side by side,
/// SHA-256, pg_restore --list, manifest, read-only, rename) against a raw pg_dump of the same database, in each format.
/// </summary>
sealed class BackupFigure(BenchContext context)
{
    public async Task<FigureResult> RunAsync()
    {
        var options = context.Options;
        var figure = new FigureResult("backup", $"3. Safe-harbor backup vs raw pg_dump (sample scale {Format.Invariant2(options.Scale)})");
        var work = context.WorkDirectory("backup");
        await using var cluster = await context.StartClusterAsync();
        var database = "school";
        var (schema, generate, report) = await SchoolSample.CreateAtV03Async(cluster, database, context.MigrationsDirectory, options.Scale, options.Seed);
        await cluster.CheckpointAsync();
        var size = await cluster.DatabaseSizeAsync(database);
        figure.Setup.Add($"database: v0.3 school sample, {report.RowsOf("users"):N0} users, {report.RowsOf("enrollments"):N0} enrollments, "
                         + $"{report.RowsOf("activity_logs"):N0} activity logs, {Files.MiB(size):N0} MiB (pg_database_size); generated in {Format.Seconds(generate.TotalSeconds)}");
        figure.Setup.Add($"formats: {string.Join(", ", options.Formats.Select(format => format == "custom" ? "custom (-Fc, 1 job)" : $"directory (-Fd, {options.Jobs} jobs)"))}; "
                         + "the order of safe harbor and raw dump alternates between runs; each dump is deleted before the next (not timed)");

        var pgDump = await RawTool.FindAsync("pg_dump");
        var pgRestore = await RawTool.FindAsync("pg_restore");
        var environment = cluster.LibpqEnvironment(database);
        var sizes = new Dictionary<string, (long Safe, long Raw)>();
        for (var run = 1; run <= options.Repeat; run++)
        {
            foreach (var format in options.Formats)
            {
                context.Progress($"backup run {run}/{options.Repeat}, {format} format");
                var directory = format == "directory";
                var jobs = directory ? options.Jobs : 1;
                var label = directory ? $"directory, {jobs} jobs" : "custom";
                var rawPath = Path.Combine(work, $"raw-{run}-{format}" + (directory ? ".dir" : ".dump"));
                long safeSize = 0, rawSize = 0;
                var steps = new List<Func<Task>>
                {
                    async () =>
                    {
                        var backup = new SafeHarborBackup(new BackupSettings
                        {
                            Directory = Path.Combine(work, "safe"),
                            Format = directory ? DumpFormat.Directory : DumpFormat.Custom,
                            Jobs = jobs,
                            Keep = 1000,
                        });
                        var clock = Stopwatch.StartNew();
                        var harbor = await backup.TakeAsync(cluster.ConnectionString(database), "bench", "0.3", $"b{run}{format[0]}");
                        figure.Measure($"safe harbor ({label}): SafeHarborBackup.TakeAsync", Side.PgDeploy).Add(clock.Elapsed.TotalSeconds);
                        safeSize = harbor.Manifest.SizeBytes;
                        Files.DeleteTree(harbor.DumpPath);
                        Files.DeleteTree(harbor.ManifestPath);
                    },
                    async () =>
                    {
                        List<string> arguments = directory ? ["-Fd", "-j", jobs.ToString(), "-f", rawPath] : ["-Fc", "-f", rawPath];
                        var elapsed = await RawTool.RunAsync(pgDump, arguments, environment);
                        figure.Measure($"pg_dump {string.Join(' ', arguments.SkipLast(2))} -f …", Side.Raw).Add(elapsed.TotalSeconds);
                        rawSize = Files.Size(rawPath);
                        var clock = Stopwatch.StartNew();
                        await Sha256Async(rawPath);
                        figure.Measure($"  SHA-256 of the raw dump ({label}), in-process as the safe harbor computes it", Side.Part).Add(clock.Elapsed.TotalSeconds);
                        var list = await RawTool.RunAsync(pgRestore, ["--list", $"--format={format}", rawPath], environment);
                        figure.Measure($"  pg_restore --list of the raw dump ({label})", Side.Part).Add(list.TotalSeconds);
                        Files.DeleteTree(rawPath);
                    },
                };
                if (run % 2 == 0)
                    steps.Reverse();
                foreach (var step in steps)
                    await step();
                sizes[label] = (safeSize, rawSize);
            }

            var counting = await CountAllAsync(cluster, database);
            figure.Measure("  exact row counts of every table (count(*) each, one snapshot), alone", Side.Part).Add(counting);
        }

        foreach (var format in options.Formats)
        {
            var directory = format == "directory";
            var label = directory ? $"directory, {options.Jobs} jobs" : "custom";
            var safe = figure.Get($"safe harbor ({label}): SafeHarborBackup.TakeAsync");
            var raw = figure.Get(directory ? $"pg_dump -Fd -j {options.Jobs} -f …" : "pg_dump -Fc -f …");
            figure.Derive($"safe harbor − pg_dump ({label}), median of the per-run differences",
                $"{Format.Seconds(Stats.Paired(safe, raw, (a, b) => a - b))} ({Format.Percent((Stats.Paired(safe, raw, (a, b) => a / b) - 1) * 100)})");
            figure.Derive($"dump size ({label}): safe harbor, raw", $"{Files.MiB(sizes[label].Safe):0} MiB, {Files.MiB(sizes[label].Raw):0} MiB");
        }
        figure.Notes.Add("The safe harbor's row counts run beside pg_dump in the dump's own snapshot, so they cost time only when the cores are busy; "
                         + "SHA-256 and pg_restore --list run after the dump, so they add to it.");
        return figure;
    }

    static async Task Sha256Async(string path)
    {
        var files = File.Exists(path) ? [path] : Directory.GetFiles(path, "*", SearchOption.AllDirectories);
        foreach (var file in files)
        {
            await using var stream = File.OpenRead(file);
            await SHA256.HashDataAsync(stream);
        }
    }

    static async Task<double> CountAllAsync(BenchCluster cluster, string database)
    {
        await using var connection = await cluster.OpenAsync(database);
        var clock = Stopwatch.StartNew();
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        foreach (var table in new[] { "schools", "terms", "users", "classes", "enrollments", "activity_logs", "pgdeploy.history" })
        {
            await using var command = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM {table}", connection, transaction);
            await command.ExecuteScalarAsync();
        }
        return clock.Elapsed.TotalSeconds;
    }
}
