using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using School;

namespace PgDeploy.Bench.Figures;

/// <summary>
/// Figure 5: the maintenance window of a whole `Deploy --version 0.4` from v0.3 (fence raised to fence lifted, from the journal) and
/// each target's time (from report.json), run by the real build program in a process of its own: as Deploy runs it (Precompute
/// hashes the passwords before the fence, its time reported apart), with the hashing inside the window (`--skip Precompute`, the
/// path before issue 9), and with a failure injected at Verify, whose automatic Rollback lies inside the window. Beside them the
/// floors: CREATE DATABASE … TEMPLATE, psql -1 of the version's SQL, pg_dump, and pg_restore into a new database. The hashing
/// runs with --window-profile (test by default: the OWASP cost of 100k users is most of an hour and a half on 2 cores; with the
/// test profile the OWASP window is extrapolated from figure 2's rate and labelled so).
/// </summary>
sealed class WindowFigure(BenchContext context)
{
    const string Database = "school";
    const string Template = "school_v03";
    internal const string AppRole = "school_app";

    static readonly string[] Procedure = ["Prerequisites", "Precompute", "MaintenanceOn", "Backup", "Migrate", "PostProcess", "Verify", "Restart"];

    public async Task<FigureResult> RunAsync()
    {
        var options = context.Options;
        var figure = new FigureResult("window", $"5. Maintenance window of `Deploy --version 0.4` from v0.3 (sample scale {Format.Invariant2(options.Scale)})");
        var build = context.Build ?? throw new InvalidOperationException("The build program was not found: build the bench (it builds _build too) or pass --build-dll.");
        var work = context.WorkDirectory("window");
        await using var cluster = await context.StartClusterAsync();

        var (_, generate, report) = await SchoolSample.CreateAtV03Async(cluster, Template, context.MigrationsDirectory, options.Scale, options.Seed);
        var users = report.RowsOf("users");
        await CreateApplicationRoleAsync(cluster, Template);
        var size = await cluster.DatabaseSizeAsync(Template);
        var directory = options.WindowFormat == "directory";
        var jobs = directory ? options.Jobs : 1;
        figure.Setup.Add($"database: v0.3 school sample, {users:N0} users, {report.RowsOf("enrollments"):N0} enrollments, {report.RowsOf("activity_logs"):N0} activity logs, "
                         + $"{Files.MiB(size):N0} MiB; generated once in {Format.Seconds(generate.TotalSeconds)}, each run deploys a fresh copy (CREATE DATABASE … TEMPLATE, not timed)");
        figure.Setup.Add($"environments/bench.json: not production; fence.roles [{AppRole}] (a LOGIN role with the application's grants); "
                         + $"backup {options.WindowFormat} format, {jobs} job(s), in the run's temp root; a revert hook `true`, so that a rollback lifts the fence as a real revert would");
        figure.Setup.Add($"`dotnet {Path.GetFileName(build.Dll)} Deploy --version 0.4 --target-env bench --root <temp root> --migrations-dir {context.MigrationsDirectory}` "
                         + $"with DATABASE_URL_BENCH_CLI and {Argon2Parameters.ProfileVariable}={options.WindowProfile} in its environment");

        var settingsJson = $$"""
            {
              "description": "PgDeploy benchmark",
              "production": false,
              "backup": { "directory": "backups", "format": "{{options.WindowFormat}}", "jobs": {{jobs}}, "keep": 2 },
              "fence": { "roles": ["{{AppRole}}"], "sessionDrainTimeout": "15s" },
              "hooks": { "revert": { "command": "true" } }
            }
            """;

        var pgDump = await RawTool.FindAsync("pg_dump");
        var psql = await RawTool.FindAsync("psql");
        var total = options.WindowRuns + options.InlineRuns + options.FailureRuns;
        for (var run = 1; run <= total; run++)
        {
            var inline = run > options.WindowRuns && run <= options.WindowRuns + options.InlineRuns;
            var failing = run > options.WindowRuns + options.InlineRuns;
            context.Progress($"window run {run}/{total}{(failing ? ", failure injected at Verify" : inline ? ", hashing inside the window" : "")}");
            await cluster.CreateDatabaseAsync(Database, Template);
            await cluster.CheckpointAsync();
            using var root = new BenchRoot(work, $"deploy-{run}", settingsJson);
            var log = context.LogFile($"window-{run}{(failing ? "-failure" : "")}.log");
            string[] arguments = ["Deploy", "--version", "0.4", "--migrations-dir", context.MigrationsDirectory,
                .. failing ? new[] { "--inject-failure", "Verify" } : inline ? ["--skip", "Precompute"] : []];
            var (exitCode, elapsed) = await build.RunAsync(root, arguments, cluster.ConnectionString(Database),
                new Dictionary<string, string?> { [Argon2Parameters.ProfileVariable] = options.WindowProfile }, log);
            var expected = failing ? 1 : 0;
            if (exitCode != expected)
                throw new InvalidOperationException($"Deploy{(failing ? " --inject-failure Verify" : "")} exited with {exitCode}, expected {expected}; see {log}.");

            var outcome = ReadOutcome(root);
            File.Copy(outcome.ReportFile, context.LogFile($"window-{run}{(failing ? "-failure" : "")}-report.json"), overwrite: true);
            var kind = failing ? "failure injected at Verify" : inline ? "deploy succeeds, hashing inside the window (--skip Precompute)" : "deploy succeeds";
            var suffix = failing ? " (failure run)" : inline ? " (hashing inside)" : "";
            figure.Measure($"maintenance window, {kind} (fence raised → lifted, from the journal)", Side.PgDeploy).Add(outcome.Window.TotalSeconds);
            figure.Measure($"  whole build process, {kind} (dotnet start → exit)", Side.Part).Add(elapsed.TotalSeconds);
            foreach (var target in failing ? [.. Procedure.Take(7), "Rollback"] : inline ? Procedure.Where(target => target != "Precompute") : Procedure)
                figure.Measure($"  {target}{suffix}{(target is "Prerequisites" or "Precompute" ? ", before the fence" : "")}", Side.Part)
                    .Add(outcome.Targets.GetValueOrDefault(target).TotalSeconds);

            if (!failing)
            {
                var steps = await HistoryAsync(cluster);
                figure.Measure($"  of PostProcess{suffix}: 100_HashPasswords.cs, {options.WindowProfile} profile (history duration)", Side.Part).Add(steps.Hashing);
                figure.Measure($"  of Migrate + PostProcess{suffix}: the SQL scripts 010–090, 110 (history durations)", Side.Part).Add(steps.Sql);
            }
            else
                await CheckRolledBackAsync(cluster, outcome);

            await cluster.DropDatabaseAsync(Database);
            await cluster.DropDatabasesLikeAsync(Database + "__");
        }

        // A committed upgrade rolled back: Verify commits it (as a CI stage does), then Rollback by hand swaps the clone back in.
        for (var run = 1; run <= options.SwapRuns; run++)
        {
            context.Progress($"window: swap rollback run {run}/{options.SwapRuns}");
            await cluster.CreateDatabaseAsync(Database, Template);
            await cluster.CheckpointAsync();
            using var root = new BenchRoot(work, $"swap-{run}", settingsJson);
            var variables = new Dictionary<string, string?> { [Argon2Parameters.ProfileVariable] = options.WindowProfile };
            var verifyLog = context.LogFile($"window-swap-{run}-verify.log");
            var (verified, _) = await build.RunAsync(root, ["Verify", "--version", "0.4", "--migrations-dir", context.MigrationsDirectory], cluster.ConnectionString(Database), variables, verifyLog);
            var rollbackLog = context.LogFile($"window-swap-{run}-rollback.log");
            var (rolledBack, _) = verified == 0
                ? await build.RunAsync(root, ["Rollback", "--confirm-database", Database], cluster.ConnectionString(Database), variables, rollbackLog)
                : throw new InvalidOperationException($"Verify --version 0.4 exited with {verified}, expected 0; see {verifyLog}.");
            var outcome = ReadOutcome(root);
            if (rolledBack != 0 || outcome.Rollback != "swap")
                throw new InvalidOperationException($"Rollback exited with {rolledBack} in mode '{outcome.Rollback}', expected 0 and a swap of the clone; see {rollbackLog}.");
            figure.Measure("Rollback by hand of the committed upgrade: the clone swapped in (Rollback target)", Side.PgDeploy).Add(outcome.Targets["Rollback"].TotalSeconds);
            await CheckRolledBackAsync(cluster, outcome);
            await cluster.DropDatabaseAsync(Database);
            await cluster.DropDatabasesLikeAsync(Database + "__");
        }

        // The same work by hand, for scale: the clone and the dump of the safe harbor, the v0.4 scripts before the C# step through
        // psql, and a restore of the dump. These are the floors the window and the rollback are compared with.
        context.Progress("window: raw CREATE DATABASE … TEMPLATE, pg_dump, psql of v0.4 010–090, pg_restore");
        var pgRestore = await RawTool.FindAsync("pg_restore");
        for (var run = 1; run <= Math.Min(options.Repeat, options.RawWindowRuns); run++)
        {
            var raw = "school_raw";
            await cluster.CheckpointAsync();
            var clone = await cluster.CreateDatabaseAsync(raw, Template);
            figure.Measure("CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY (beside Backup's clone)", Side.Raw).Add(clone.TotalSeconds);
            await cluster.CheckpointAsync();
            var dumpPath = Path.Combine(work, "raw" + (directory ? ".dir" : ".dump"));
            List<string> dumpArguments = directory ? ["-Fd", "-j", jobs.ToString(CultureInfo.InvariantCulture), "-f", dumpPath] : ["-Fc", "-f", dumpPath];
            var dump = await RawTool.RunAsync(pgDump, dumpArguments, cluster.LibpqEnvironment(raw));
            figure.Measure($"pg_dump {string.Join(' ', dumpArguments.SkipLast(2))} (beside Backup)", Side.Raw).Add(dump.TotalSeconds);
            var restored = "school_restored";
            var create = await cluster.CreateDatabaseAsync(restored);
            var restore = await RawTool.RunAsync(pgRestore, ["-j", jobs.ToString(CultureInfo.InvariantCulture), "-d", restored, dumpPath], cluster.LibpqEnvironment("postgres"));
            figure.Measure($"CREATE DATABASE + pg_restore -j {jobs} into it (beside Rollback's restore)", Side.Raw).Add((create + restore).TotalSeconds);
            await cluster.DropDatabaseAsync(restored);
            Files.DeleteTree(dumpPath);
            var scripts = Directory.GetFiles(Path.Combine(context.MigrationsDirectory, "v0.4"), "*.sql").Order(StringComparer.Ordinal)
                .Where(file => string.CompareOrdinal(Path.GetFileName(file), "100") < 0).ToList();
            var psqlArguments = new List<string> { "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1" };
            foreach (var script in scripts)
                psqlArguments.AddRange(["-f", script]);
            var migrate = await RawTool.RunAsync(psql, psqlArguments, cluster.LibpqEnvironment(raw));
            figure.Measure("psql -1 -f 010 … -f 090 (beside Migrate)", Side.Raw).Add(migrate.TotalSeconds);
            await cluster.DropDatabaseAsync(raw);
        }

        Summarize(figure, users);
        return figure;
    }

    /// <summary>A LOGIN role with the application's grants in <paramref name="database"/>, for the fence to fence.</summary>
    internal static async Task CreateApplicationRoleAsync(BenchCluster cluster, string database)
    {
        await using var connection = await cluster.OpenAsync(database);
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await connection.ExecuteAsync($"CREATE ROLE {AppRole} LOGIN PASSWORD '{password}'");
        await connection.ExecuteAsync($"""
            GRANT USAGE ON SCHEMA public, pgdeploy TO {AppRole};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {AppRole};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {AppRole};
            GRANT SELECT ON pgdeploy.history TO {AppRole};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {AppRole};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {AppRole};
            """);
    }

    void Summarize(FigureResult figure, long users)
    {
        var options = context.Options;
        var cores = Environment.ProcessorCount;
        var test = options.WindowProfile == "test";
        if (options.WindowRuns > 0)
        {
            var window = figure.Get("maintenance window, deploy succeeds (fence raised → lifted, from the journal)").Median;
            figure.Derive($"maintenance window, passwords precomputed ({options.WindowProfile} profile)", Format.Duration(window), "measured (median)");
            figure.Derive("  Precompute, before the fence (not in the window)", Format.Duration(figure.Get("  Precompute, before the fence").Median), "measured (median)");
            if (figure.Measurements.FirstOrDefault(m => m.Label.StartsWith("CREATE DATABASE … TEMPLATE", StringComparison.Ordinal)) is { } clone)
            {
                var floor = clone.Median + figure.Get("psql -1 -f 010 … -f 090 (beside Migrate)").Median + figure.Get("  Verify").Median;
                figure.Derive("floor: CREATE DATABASE … TEMPLATE + psql -1 of 010–090 + the Verify target", Format.Duration(floor), "measured (medians)");
                figure.Derive("maintenance window ÷ floor (issue 9's target: at most 1.15)", (window / floor).ToString("0.00", CultureInfo.InvariantCulture), "measured");
                figure.Derive("Backup target − raw CREATE DATABASE … TEMPLATE", Format.Seconds(figure.Get("  Backup").Median - clone.Median));
                figure.Derive("Migrate target − psql of 010–090", Format.Seconds(figure.Get("  Migrate").Median - figure.Get("psql -1 -f 010 … -f 090 (beside Migrate)").Median));
            }
        }
        if (options.InlineRuns > 0)
        {
            var inline = figure.Get("maintenance window, deploy succeeds, hashing inside the window (--skip Precompute) (fence raised → lifted, from the journal)").Median;
            figure.Derive($"maintenance window, hashing inside it ({options.WindowProfile} profile)", Format.Duration(inline), "measured (median)");
            if (test)
            {
                var hashing = figure.Get("  of PostProcess (hashing inside): 100_HashPasswords.cs, test profile (history duration)").Median;
                var (rate, basis) = OwaspRate();
                var owasp = users / rate;
                figure.Derive($"OWASP hashing of {users:N0} users on {cores} cores", Format.Duration(owasp), $"EXTRAPOLATED: {users:N0} / {Format.Number(rate, "hashes/s")} ({basis})");
                figure.Derive("maintenance window with OWASP hashing inside it (window − test hashing + OWASP hashing)", Format.Duration(inline - hashing + owasp), "EXTRAPOLATED");
            }
        }
        if (options.FailureRuns > 0)
        {
            var failed = figure.Get("maintenance window, failure injected at Verify (fence raised → lifted, from the journal)").Median;
            var rollback = figure.Get("  Rollback (failure run)").Median;
            figure.Derive("maintenance window when Verify fails, automatic Rollback included", Format.Duration(failed), "measured (median)");
            figure.Derive("of which the automatic Rollback", Format.Duration(rollback), "measured (median)");
            if (figure.Measurements.FirstOrDefault(m => m.Label.StartsWith("CREATE DATABASE + pg_restore", StringComparison.Ordinal)) is { } restore)
                figure.Derive("a restore of the dump instead (raw CREATE DATABASE + pg_restore)", Format.Duration(restore.Median), "measured (median)");
        }
        if (options.SwapRuns > 0)
        {
            figure.Derive("Rollback of a committed upgrade by swapping the clone in", Format.Duration(figure.Get("Rollback by hand of the committed upgrade: the clone swapped in (Rollback target)").Median), "measured (median)");
            if (figure.Measurements.FirstOrDefault(m => m.Label.StartsWith("CREATE DATABASE + pg_restore", StringComparison.Ordinal)) is { } restore)
                figure.Derive("  against a restore of the dump (raw CREATE DATABASE + pg_restore)", Format.Duration(restore.Median), "measured (median)");
        }
        figure.Notes.Add("The window is the journal's fenceLiftedAt − fenceRaisedAt: Restart lifts the fence after Verify committed; after a failure, "
                         + "the Rollback lifts it once the revert hook has run. Prerequisites and Precompute run before the fence, while the application runs.");
    }

    (double Rate, string Basis) OwaspRate()
    {
        if (context.OwaspRateAllCores is { } measured)
            return (measured, "figure 2's runner rate, measured in this run");
        if (context.Options.OwaspRate is { } given)
            return (given, "--owasp-rate");
        context.OwaspCalibration ??= Calibrate();
        return (context.OwaspCalibration.Value, "a 3-second calibration: raw PasswordHasher at OWASP on all cores, no database; figure 2 measures it properly");
    }

    static double Calibrate()
    {
        var hasher = new PasswordHasher(Argon2Parameters.Owasp);
        // One hash per core first: the first call pays for loading and compiling Argon2.
        _ = Enumerable.Range(1, Environment.ProcessorCount).AsParallel().Select(i => hasher.Hash($"warm-up-{i}")).ToArray();
        var count = 40 * Environment.ProcessorCount;
        var clock = Stopwatch.StartNew();
        _ = Enumerable.Range(1, count).AsParallel().Select(i => hasher.Hash($"calibration-{i}")).ToArray();
        return count / clock.Elapsed.TotalSeconds;
    }

    sealed record Outcome(string ReportFile, TimeSpan Window, Dictionary<string, TimeSpan> Targets, string State, string? Rollback);

    static Outcome ReadOutcome(BenchRoot root)
    {
        var journalFile = root.JournalFile(Database);
        using var journal = JsonDocument.Parse(File.ReadAllText(journalFile));
        var runId = journal.RootElement.GetProperty("runId").GetString()!;
        var raised = journal.RootElement.GetProperty("fenceRaisedAt").GetDateTimeOffset();
        var lifted = journal.RootElement.GetProperty("fenceLiftedAt");
        if (lifted.ValueKind != JsonValueKind.String)
            throw new InvalidOperationException($"The journal {journalFile} records no lifted fence: the window did not end.");
        var state = journal.RootElement.GetProperty("state").GetString()!;
        var reportFile = Path.Combine(Path.GetDirectoryName(journalFile)!, runId, "report.json");
        using var report = JsonDocument.Parse(File.ReadAllText(reportFile));
        var targets = report.RootElement.GetProperty("targets").EnumerateArray().ToDictionary(
            target => target.GetProperty("name").GetString()!,
            target => TimeSpan.Parse(target.GetProperty("duration").GetString()!, CultureInfo.InvariantCulture));
        var rollback = journal.RootElement.TryGetProperty("rollback", out var mode) && mode.ValueKind == JsonValueKind.String ? mode.GetString() : null;
        return new Outcome(reportFile, lifted.GetDateTimeOffset() - raised, targets, state, rollback);
    }

    static async Task<(double Hashing, double Sql)> HistoryAsync(BenchCluster cluster)
    {
        await using var connection = await cluster.OpenAsync(Database);
        var rows = (await connection.QueryAsync<(string Name, long DurationMs)>(
            "SELECT name, duration_ms FROM pgdeploy.history WHERE version = '0.4' AND success")).ToList();
        if (!rows.Any(row => row.Name == "100_HashPasswords.cs"))
            throw new InvalidOperationException("The deployed database's history has no 100_HashPasswords.cs.");
        return (rows.Where(row => row.Name.EndsWith(".cs", StringComparison.Ordinal)).Sum(row => row.DurationMs) / 1000.0,
                rows.Where(row => row.Name.EndsWith(".sql", StringComparison.Ordinal)).Sum(row => row.DurationMs) / 1000.0);
    }

    /// <summary>Not a timing assertion: a failure run that did not roll back would have measured something else.</summary>
    static async Task CheckRolledBackAsync(BenchCluster cluster, Outcome outcome)
    {
        if (outcome.State != "rolled-back")
            throw new InvalidOperationException($"The failure run ended in state '{outcome.State}', not rolled-back.");
        await using var connection = await cluster.OpenAsync(Database);
        var atV03 = await connection.ExecuteScalarAsync<bool>(
            "SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'password') "
            + "AND NOT EXISTS (SELECT FROM pgdeploy.history WHERE version = '0.4' AND success)");
        if (!atV03)
            throw new InvalidOperationException("After the rollback the database is not back at v0.3.");
    }
}
