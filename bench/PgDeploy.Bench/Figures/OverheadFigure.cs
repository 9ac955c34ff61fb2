using System.Diagnostics;
using System.Text;
using Dapper;
using PgDeploy.Migrations;

namespace PgDeploy.Bench.Figures;

/// <summary>
/// Figure 1: the runner's overhead over plain psql. N small scripts in one version folder, applied by the runner as Migrate does
/// (MigrationCatalog + UpgradeRun.ApplyAsync with commit) and by one `psql -X -q -1 -v ON_ERROR_STOP=1 -f ... -f ...`, each into
/// a fresh, identical database; and by the build program's `Migrate --skip`, a whole process as a CI stage runs it.
/// </summary>
sealed class OverheadFigure(BenchContext context)
{
    static readonly AppVersion Version = new(1, 0);

    public async Task<FigureResult> RunAsync()
    {
        var options = context.Options;
        var figure = new FigureResult("overhead", $"1. Runner overhead over plain psql ({options.Scripts} small scripts)");
        var work = context.WorkDirectory("overhead");
        var migrations = Path.Combine(work, "migrations");
        var files = WriteScripts(Path.Combine(migrations, Version.FolderName), options.Scripts);
        figure.Setup.Add($"{options.Scripts} scripts in {Version.FolderName}/: each creates a table with a primary key and inserts 3 rows; every 3rd adds an index, "
                         + "every 5th a PL/pgSQL function with a dollar-quoted body, every 10th a DO block calling it "
                         + $"({files.Sum(file => new FileInfo(file).Length) / 1024.0:0} KiB, {CountStatements(files)} statements in all)");
        figure.Setup.Add("each run applies them into a new empty database (CREATE DATABASE from template0, not timed); the order of the three tools alternates between runs");

        await using var cluster = await context.StartClusterAsync();
        var psql = await RawTool.FindAsync("psql");
        var build = context.Build;
        using var root = new BenchRoot(work, "root", """{ "production": false }""");

        // Warm-up (not recorded): the first run in a process pays for loading and compiling the runner's code.
        var cold = await RunnerAsync(cluster, "warmup", migrations);
        figure.Measure("runner in-process, first run of the process (JIT cold)", Side.Part).Add(cold.Total);
        await PsqlAsync(cluster, psql, files, "warmup_psql");
        // A second one lets tiered compilation finish its work on the hot paths before the first measured run.
        await RunnerAsync(cluster, "warmup_2", migrations);

        for (var run = 1; run <= options.Repeat; run++)
        {
            context.Progress($"overhead run {run}/{options.Repeat}");
            var order = new List<Func<Task>>
            {
                async () =>
                {
                    var timing = await RunnerAsync(cluster, $"runner_{run}", migrations);
                    figure.Measure("runner (UpgradeRun, in-process, warm): catalog + plan + apply + commit", Side.PgDeploy).Add(timing.Total);
                    figure.Measure("  catalog: read, parse, checksum the files", Side.Part).Add(timing.Catalog);
                    figure.Measure("  plan: deployment lock, session, history", Side.Part).Add(timing.Plan);
                    figure.Measure("  apply + commit", Side.Part).Add(timing.Apply);
                },
                async () => figure.Measure($"psql -X -q -1 -v ON_ERROR_STOP=1 -f ×{options.Scripts}", Side.Raw)
                    .Add((await PsqlAsync(cluster, psql, files, $"psql_{run}")).TotalSeconds),
            };
            if (build is not null)
                order.Add(async () =>
                {
                    var database = $"build_{run}";
                    await cluster.CreateDatabaseAsync(database);
                    // Migrate runs alone only inside a deployment that has its fence and safe harbor: the earlier CI stage, not timed.
                    var (harbored, _) = await build.RunAsync(root, ["Backup", "--version", Version.ToString(), "--migrations-dir", migrations],
                        cluster.ConnectionString(database), new Dictionary<string, string?>(), context.LogFile($"overhead-build-{run}-backup.log"));
                    if (harbored != 0)
                        throw new InvalidOperationException($"The build program's Backup stage exited with {harbored}; see {context.LogFile($"overhead-build-{run}-backup.log")}.");
                    var (exitCode, elapsed) = await build.RunAsync(root, ["Migrate", "--skip", "--version", Version.ToString(), "--migrations-dir", migrations],
                        cluster.ConnectionString(database), new Dictionary<string, string?>(), context.LogFile($"overhead-build-{run}.log"));
                    if (exitCode != 0)
                        throw new InvalidOperationException($"The build program's Migrate --skip exited with {exitCode}; see {context.LogFile($"overhead-build-{run}.log")}.");
                    await CheckAppliedAsync(cluster, database, options.Scripts);
                    figure.Measure("build program `Migrate --skip` (a whole process: .NET start, target engine, runner)", Side.PgDeploy).Add(elapsed.TotalSeconds);
                });
            if (run % 2 == 0)
                order.Reverse();
            foreach (var step in order)
                await step();

            if (build is not null)
            {
                var (_, help) = await build.RunAsync(root, ["--help"], null, new Dictionary<string, string?>(), context.LogFile("overhead-build-help.log"));
                figure.Measure("  build program `--help` (.NET start and target engine alone)", Side.Part).Add(help.TotalSeconds);
            }
        }

        await using (var connection = await cluster.OpenAsync())
        {
            for (var run = 1; run <= options.Repeat; run++)
            {
                var clock = Stopwatch.StartNew();
                for (var trip = 0; trip < 1000; trip++)
                    await connection.ExecuteScalarAsync<int>("SELECT 1");
                figure.Measure("  one round trip (SELECT 1 on an open connection, mean of 1,000)", Side.Part, "ms").Add(clock.Elapsed.TotalMilliseconds / 1000);
            }
        }

        if (build is null)
            figure.Notes.Add("The build program was not found (build it with the bench, or pass --build-dll): its `Migrate --skip` was not measured.");

        var runner = figure.Get("runner (UpgradeRun, in-process, warm): catalog + plan + apply + commit");
        var raw = figure.Get($"psql -X -q -1 -v ON_ERROR_STOP=1 -f ×{options.Scripts}");
        var difference = Stats.Paired(runner, raw, (a, b) => a - b);
        figure.Derive("runner − psql, total (median of the per-run differences)", Format.Seconds(difference));
        figure.Derive("runner − psql, per script", Format.Number(difference / options.Scripts * 1000, "ms"));
        figure.Derive("runner / psql (median of the per-run ratios)", Format.Ratio(Stats.Paired(runner, raw, (a, b) => a / b)));
        figure.Derive("psql per script", Format.Number(raw.Median / options.Scripts * 1000, "ms"));
        figure.Derive("runner per script", Format.Number(runner.Median / options.Scripts * 1000, "ms"));
        if (build is not null)
        {
            var process = figure.Get("build program `Migrate --skip` (a whole process: .NET start, target engine, runner)");
            var processDifference = Stats.Paired(process, raw, (a, b) => a - b);
            figure.Derive("build program − psql, total (median of the per-run differences)", Format.Seconds(processDifference));
            figure.Derive("build program − psql, per script", Format.Number(processDifference / options.Scripts * 1000, "ms"));
        }
        figure.Notes.Add("The runner, per script: SAVEPOINT, a session reset (RESET ALL, DISCARD TEMP, timeouts), each statement as its own round trip, "
                         + "RELEASE SAVEPOINT, one history INSERT, and a log line; psql sends each statement as its own round trip too, without the rest.");
        return figure;
    }

    sealed record RunnerTiming(double Catalog, double Plan, double Apply)
    {
        public double Total => Catalog + Plan + Apply;
    }

    async Task<RunnerTiming> RunnerAsync(BenchCluster cluster, string database, string migrations)
    {
        await cluster.CreateDatabaseAsync(database);
        var connectionString = cluster.ConnectionString(database);
        var clock = Stopwatch.StartNew();
        var catalog = MigrationCatalog.Load(migrations, []);
        var catalogTime = clock.Elapsed.TotalSeconds;
        if (catalog.Errors.Any())
            throw new InvalidOperationException($"The generated scripts do not parse: {string.Join("; ", catalog.Errors.Take(3))}");
        clock.Restart();
        await using (var run = new UpgradeRun(connectionString, catalog, Version, new MigrationSettings(), $"bench-{database}"))
        {
            await run.PlanAsync(CancellationToken.None);
            var planTime = clock.Elapsed.TotalSeconds;
            clock.Restart();
            await run.ApplyAsync(UpgradePhase.Migrate, commit: true, CancellationToken.None);
            var applyTime = clock.Elapsed.TotalSeconds;
            await CheckAppliedAsync(cluster, database, context.Options.Scripts);
            return new RunnerTiming(catalogTime, planTime, applyTime);
        }
    }

    static async Task<TimeSpan> PsqlAsync(BenchCluster cluster, PgDeploy.Postgres.ClientTool psql, IReadOnlyList<string> files, string database)
    {
        await cluster.CreateDatabaseAsync(database);
        var arguments = new List<string> { "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1" };
        foreach (var file in files)
            arguments.AddRange(["-f", file]);
        var elapsed = await RawTool.RunAsync(psql, arguments, cluster.LibpqEnvironment(database));
        await CheckAppliedAsync(cluster, database, files.Count);
        return elapsed;
    }

    /// <summary>Not a timing assertion: a run that did not create every table measured something else.</summary>
    static async Task CheckAppliedAsync(BenchCluster cluster, string database, int scripts)
    {
        await using var connection = await cluster.OpenAsync(database);
        var tables = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'bench\\_%'");
        var rows = await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM bench_{scripts.ToString(Width(scripts))}");
        if (tables != scripts || rows != 3)
            throw new InvalidOperationException($"Database {database} has {tables} of {scripts} tables ({rows} rows in the last): the run did not apply every script.");
    }

    static string Width(int scripts) => new('0', Math.Max(3, scripts.ToString().Length));

    static int CountStatements(IEnumerable<string> files) =>
        files.Sum(file => PgDeploy.Migrations.Scripts.SqlScriptParser.Parse(File.ReadAllText(file)).Statements.Count);

    static List<string> WriteScripts(string folder, int count)
    {
        Directory.CreateDirectory(folder);
        var width = Width(count);
        var files = new List<string>();
        for (var i = 1; i <= count; i++)
        {
            var name = $"bench_{i.ToString(width)}";
            var script = new StringBuilder();
            script.AppendLine($"-- Benchmark script {i}: a table with a few rows.");
            script.AppendLine($"CREATE TABLE {name} (");
            script.AppendLine("    id integer PRIMARY KEY,");
            script.AppendLine("    name text NOT NULL,");
            script.AppendLine("    created_at timestamptz NOT NULL DEFAULT now()");
            script.AppendLine(");");
            script.AppendLine($"INSERT INTO {name} (id, name) VALUES (1, 'one'), (2, 'two; not the end of a statement'), (3, 'it''s three');");
            if (i % 3 == 0)
                script.AppendLine($"CREATE INDEX {name}_name ON {name} (name);");
            if (i % 5 == 0)
            {
                script.AppendLine($"CREATE FUNCTION {name}_label(p_id integer) RETURNS text");
                script.AppendLine("LANGUAGE plpgsql STABLE AS $body$");
                script.AppendLine("DECLARE");
                script.AppendLine("    result text;");
                script.AppendLine("BEGIN");
                script.AppendLine($"    SELECT name INTO result FROM {name} WHERE id = p_id; -- a semicolon inside the body");
                script.AppendLine("    RETURN coalesce(result, 'none');");
                script.AppendLine("END;");
                script.AppendLine("$body$;");
            }
            if (i % 10 == 0)
                script.AppendLine($"DO $$ BEGIN PERFORM {name}_label(1); END $$;");
            var file = Path.Combine(folder, $"{i.ToString(width)}_table_{i.ToString(width)}.sql");
            File.WriteAllText(file, script.ToString());
            files.Add(file);
        }
        return files;
    }
}
