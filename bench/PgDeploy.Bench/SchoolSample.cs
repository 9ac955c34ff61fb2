using System.Diagnostics;
using Migrations.V0_4;
using PgDeploy.Migrations;
using School;

namespace PgDeploy.Bench;

/// <summary>The school sample at v0.3 with generated data, made through the runner as ./build.sh and the tests make it.</summary>
static class SchoolSample
{
    public static readonly AppVersion V03 = new(0, 3);
    public static readonly AppVersion V04 = new(0, 4);

    public static MigrationCatalog Catalog(string migrationsDirectory) =>
        MigrationCatalog.Load(migrationsDirectory, typeof(HashPasswords).Assembly.GetTypes());

    /// <summary>Creates <paramref name="database"/> at v0.3 with sample data at <paramref name="scale"/>; returns the generation time.</summary>
    public static async Task<(TimeSpan Schema, TimeSpan Generate, GenerationReport Report)> CreateAtV03Async(
        BenchCluster cluster, string database, string migrationsDirectory, double scale, int seed)
    {
        await cluster.CreateDatabaseAsync(database);
        var connectionString = cluster.ConnectionString(database);
        var clock = Stopwatch.StartNew();
        await using (var run = new UpgradeRun(connectionString, Catalog(migrationsDirectory), V03, new MigrationSettings(), "bench-setup"))
            await run.ApplyAsync(UpgradePhase.Migrate, commit: true, CancellationToken.None);
        var schema = clock.Elapsed;
        clock.Restart();
        var report = await SampleData.GenerateAsync(connectionString, scale, seed);
        return (schema, clock.Elapsed, report);
    }

    /// <summary>scale 1 has 100,000 users.</summary>
    public static double ScaleFor(int users) => users / 100_000.0;
}
