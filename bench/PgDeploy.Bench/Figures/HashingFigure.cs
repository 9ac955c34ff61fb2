using System.Diagnostics;
using Dapper;
using PgDeploy.Migrations;
using PgDeploy.Migrations.PostProcessing;
using School;
using Serilog;

namespace PgDeploy.Bench.Figures;

/// <summary>
/// Figure 2: post-processing throughput per core. The real v0.4 HashPasswords step, run by the runner as PostProcess runs it
/// (after 010–090 in the same transaction), with MigrationSettings.DegreeOfParallelism 1 and all cores, at the OWASP parameters
/// and with the test profile; beside it the raw rate of PasswordHasher on the same passwords without a database, and the runner's
/// own cost per row (the same BatchTransform with a compute that does nothing).
/// </summary>
sealed class HashingFigure(BenchContext context)
{
    const string FixedHash = "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    public async Task<FigureResult> RunAsync()
    {
        var options = context.Options;
        var cores = Environment.ProcessorCount;
        int[] degrees = cores > 1 ? [1, cores] : [1];
        var figure = new FigureResult("hashing", $"2. Post-processing throughput: v0.4 HashPasswords (OWASP Argon2id) on {options.Users:N0} users");

        // v0.3 and v0.4 without 110: PostProcess is then exactly the HashPasswords step.
        var migrations = CopyMigrationsUpToHashing(context.WorkDirectory("hashing"));
        var catalog = SchoolSample.Catalog(migrations);
        await using var cluster = await context.StartClusterAsync();

        var owaspTemplate = "hash_owasp_template";
        var owasp = await SchoolSample.CreateAtV03Async(cluster, owaspTemplate, migrations, SchoolSample.ScaleFor(options.Users), options.Seed);
        var owaspUsers = owasp.Report.RowsOf("users");
        var testTemplate = "hash_test_template";
        var test = await SchoolSample.CreateAtV03Async(cluster, testTemplate, migrations, SchoolSample.ScaleFor(options.TestUsers), options.Seed);
        var testUsers = test.Report.RowsOf("users");
        figure.Setup.Add($"OWASP profile {Argon2Parameters.Owasp}: {owaspUsers:N0} users (sample scale {SchoolSample.ScaleFor(options.Users)}); "
                         + $"test profile {Argon2Parameters.Test}: {testUsers:N0} users (scale {SchoolSample.ScaleFor(options.TestUsers)})");
        figure.Setup.Add("each run: a copy of the v0.3 database (CREATE DATABASE … TEMPLATE), v0.4 010–090 applied in the upgrade's transaction (not timed), "
                         + "then PostProcess timed: the runner's HashPasswords step with its cursor, PLINQ batches of 1,000, binary COPY and UPDATE … FROM");
        figure.Setup.Add($"raw: PasswordHasher.Hash on the generator's plaintexts with PLINQ at the same degree, no database "
                         + $"({options.RawHashes:N0} passwords a run at OWASP, {testUsers:N0} with the test profile)");

        var plaintexts = Enumerable.Range(1, Math.Max(options.RawHashes, (int)testUsers)).Select(id => SampleData.PlaintextPassword(id, options.Seed)).ToArray();
        var previousProfile = Environment.GetEnvironmentVariable(Argon2Parameters.ProfileVariable);
        try
        {
            for (var run = 1; run <= options.Repeat; run++)
            {
                foreach (var degree in run % 2 == 1 ? degrees : degrees.Reverse())
                {
                    context.Progress($"hashing run {run}/{options.Repeat}, OWASP, degree {degree}");
                    var seconds = await RunnerAsync(cluster, catalog, owaspTemplate, "owasp", degree, owaspUsers, $"h_owasp_{degree}_{run}");
                    figure.Measure($"runner, OWASP, DegreeOfParallelism = {degree}: time", Side.PgDeploy).Add(seconds);
                    figure.Measure($"runner, OWASP, DegreeOfParallelism = {degree}: rate", Side.PgDeploy, "hashes/s").Add(owaspUsers / seconds);
                    var raw = RawHash(Argon2Parameters.Owasp, plaintexts.Take(options.RawHashes).ToArray(), degree);
                    figure.Measure($"raw PasswordHasher, OWASP, {degree} thread(s): rate", Side.Raw, "hashes/s").Add(options.RawHashes / raw);
                }

                foreach (var degree in run % 2 == 1 ? degrees : degrees.Reverse())
                {
                    context.Progress($"hashing run {run}/{options.Repeat}, test profile, degree {degree}");
                    var seconds = await RunnerAsync(cluster, catalog, testTemplate, "test", degree, testUsers, $"h_test_{degree}_{run}");
                    figure.Measure($"runner, test profile, DegreeOfParallelism = {degree}: time", Side.PgDeploy).Add(seconds);
                    var raw = RawHash(Argon2Parameters.Test, plaintexts.Take((int)testUsers).ToArray(), degree);
                    figure.Measure($"raw PasswordHasher, test profile, {degree} thread(s): time for the same {testUsers:N0}", Side.Raw).Add(raw);
                }

                context.Progress($"hashing run {run}/{options.Repeat}, runner with a compute that does nothing");
                var noop = await NoopTransformAsync(cluster, catalog, testTemplate, cores, testUsers, $"h_noop_{run}");
                figure.Measure($"runner, same BatchTransform, compute does nothing, {testUsers:N0} rows: time", Side.Part).Add(noop);
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(Argon2Parameters.ProfileVariable, previousProfile);
        }

        var oneRate = figure.Get("runner, OWASP, DegreeOfParallelism = 1: rate");
        var rawOneRate = figure.Get("raw PasswordHasher, OWASP, 1 thread(s): rate");
        var (one, rawOne) = (oneRate.Median, rawOneRate.Median);
        figure.Derive("runner rate per core, 1 core (OWASP)", Format.Number(one, "hashes/s"));
        figure.Derive("raw rate per core, 1 thread (OWASP)", Format.Number(rawOne, "hashes/s"));
        figure.Derive("runner / raw, 1 core (median of the per-run ratios)", Format.Ratio(Stats.Paired(oneRate, rawOneRate, (a, b) => a / b)));
        var all = one;
        if (cores > 1)
        {
            var allRate = figure.Get($"runner, OWASP, DegreeOfParallelism = {cores}: rate");
            var rawAllRate = figure.Get($"raw PasswordHasher, OWASP, {cores} thread(s): rate");
            all = allRate.Median;
            var rawAll = rawAllRate.Median;
            figure.Derive($"runner rate, {cores} cores (OWASP)", $"{Format.Number(all, "hashes/s")} ({Format.Number(all / cores, "hashes/s")} per core)");
            figure.Derive($"raw rate, {cores} threads (OWASP)", $"{Format.Number(rawAll, "hashes/s")} ({Format.Number(rawAll / cores, "hashes/s")} per core)");
            figure.Derive($"speed-up {cores} cores / 1 core (median of the per-run ratios): runner, raw",
                $"{Format.Ratio(Stats.Paired(allRate, oneRate, (a, b) => a / b))}, {Format.Ratio(Stats.Paired(rawAllRate, rawOneRate, (a, b) => a / b))}");
            figure.Derive($"runner / raw, {cores} cores (median of the per-run ratios)", Format.Ratio(Stats.Paired(allRate, rawAllRate, (a, b) => a / b)));
        }
        context.OwaspRateAllCores = all;
        figure.Derive($"100,000 users at OWASP on this machine, {cores} core(s)", Format.Duration(100_000 / all), $"EXTRAPOLATED from the runner's median rate on {owaspUsers:N0} users");
        figure.Derive("100,000 users at OWASP on this machine, 1 core", Format.Duration(100_000 / one), $"EXTRAPOLATED from the runner's median rate on {owaspUsers:N0} users");
        figure.Derive("100,000 users at OWASP on 16 such cores (linear in cores)", Format.Duration(100_000 / (one * 16)), "EXTRAPOLATED, optimistic: ignores shared memory bandwidth");

        foreach (var degree in degrees)
        {
            var testRunner = figure.Get($"runner, test profile, DegreeOfParallelism = {degree}: time");
            var testRaw = figure.Get($"raw PasswordHasher, test profile, {degree} thread(s): time for the same {testUsers:N0}");
            figure.Derive($"test profile, {degree} core(s): runner − raw hashing, per row (median of the per-run differences)",
                Format.Number(Stats.Paired(testRunner, testRaw, (a, b) => a - b) / testUsers * 1e6, "µs"));
        }
        var noopTime = figure.Get($"runner, same BatchTransform, compute does nothing, {testUsers:N0} rows: time").Median;
        figure.Derive("runner's own cost per row (cursor FETCH, binary COPY, UPDATE … FROM; compute does nothing)", Format.Number(noopTime / testUsers * 1e6, "µs"));
        figure.Derive("runner's own cost for 100,000 rows", Format.Seconds(noopTime / testUsers * 100_000), "EXTRAPOLATED (linear in rows)");
        figure.Derive("OWASP hash cost per row, 1 core, for comparison", Format.Number(1e3 / one, "ms"));
        figure.Notes.Add("Rates are users hashed divided by the PostProcess time, so they include the runner's reads and writes; the raw rate is hashing alone.");
        return figure;
    }

    /// <summary>Applies 010–090 in the upgrade's transaction, then times PostProcess (the HashPasswords step), then commits.</summary>
    async Task<double> RunnerAsync(BenchCluster cluster, MigrationCatalog catalog, string template, string profile, int degree, long users, string database)
    {
        await cluster.CreateDatabaseAsync(database, template);
        Environment.SetEnvironmentVariable(Argon2Parameters.ProfileVariable, profile);
        var settings = new MigrationSettings { DegreeOfParallelism = degree };
        double seconds;
        await using (var run = new UpgradeRun(cluster.ConnectionString(database), catalog, SchoolSample.V04, settings, $"bench-{database}"))
        {
            await run.ApplyAsync(UpgradePhase.Migrate, commit: false, CancellationToken.None);
            var clock = Stopwatch.StartNew();
            var steps = await run.ApplyAsync(UpgradePhase.PostProcess, commit: false, CancellationToken.None);
            seconds = clock.Elapsed.TotalSeconds;
            if (steps.Count != 1 || steps[0].FileName != "100_HashPasswords.cs")
                throw new InvalidOperationException($"PostProcess ran {string.Join(", ", steps.Select(step => step.FileName))}, not only 100_HashPasswords.cs.");
            await run.CommitAsync(CancellationToken.None);
        }

        await using (var connection = await cluster.OpenAsync(database))
        {
            var hashed = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$%'");
            if (hashed != users)
                throw new InvalidOperationException($"{database}: {hashed} of {users} users were hashed.");
        }
        await cluster.DropDatabaseAsync(database);
        return seconds;
    }

    async Task<double> NoopTransformAsync(BenchCluster cluster, MigrationCatalog catalog, string template, int degree, long users, string database)
    {
        await cluster.CreateDatabaseAsync(database, template);
        double seconds;
        await using (var run = new UpgradeRun(cluster.ConnectionString(database), catalog, SchoolSample.V04, new MigrationSettings { DegreeOfParallelism = degree }, $"bench-{database}"))
        {
            await run.ApplyAsync(UpgradePhase.Migrate, commit: false, CancellationToken.None);
            var session = run.Session!;
            var step = new StepContext(session.Connection, session.Transaction, Log.Logger, degree, CancellationToken.None);
            var clock = Stopwatch.StartNew();
            var rows = await step.TransformAsync(new BatchTransform<UserPassword, (Guid, string)>
            {
                Name = "No-op transform",
                Source = "SELECT id, password FROM users",
                Compute = user => (user.Id, FixedHash),
                Table = "users",
                KeyColumn = "id",
                Columns = ["password_hash"],
            });
            seconds = clock.Elapsed.TotalSeconds;
            if (rows != users)
                throw new InvalidOperationException($"{database}: the no-op transform wrote {rows} of {users} rows.");
        }
        await cluster.DropDatabaseAsync(database);
        return seconds;
    }

    static double RawHash(Argon2Parameters parameters, string[] passwords, int degree)
    {
        var hasher = new PasswordHasher(parameters);
        var clock = Stopwatch.StartNew();
        var hashes = passwords.AsParallel().AsOrdered().WithDegreeOfParallelism(degree).Select(hasher.Hash).ToArray();
        var seconds = clock.Elapsed.TotalSeconds;
        if (hashes.Length != passwords.Length)
            throw new InvalidOperationException("Not every password was hashed.");
        return seconds;
    }

    string CopyMigrationsUpToHashing(string work)
    {
        var target = Path.Combine(work, "migrations");
        foreach (var version in new[] { "v0.3", "v0.4" })
        {
            var source = Path.Combine(context.MigrationsDirectory, version);
            Directory.CreateDirectory(Path.Combine(target, version));
            foreach (var file in Directory.GetFiles(source).Where(file => !Path.GetFileName(file).StartsWith("110_", StringComparison.Ordinal)))
                File.Copy(file, Path.Combine(target, version, Path.GetFileName(file)));
        }
        return target;
    }

    sealed record UserPassword(Guid Id, string Password);
}
