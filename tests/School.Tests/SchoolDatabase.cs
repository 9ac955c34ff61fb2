using Migrations.V0_4;
using PgDeploy.Migrations;
using PgDeploy.Tests.Fixtures;

namespace School.Tests;

/// The sample databases of these tests, made and upgraded through the runner as ./build.sh does.
static class SchoolDatabase
{
    public static readonly AppVersion V03 = new(0, 3);
    public static readonly AppVersion V04 = new(0, 4);

    public static string MigrationsDirectory { get; } = Path.Combine(RepositoryRoot(), "migrations");

    public static MigrationCatalog Catalog { get; } = MigrationCatalog.Load(MigrationsDirectory, typeof(HashPasswords).Assembly.GetTypes());

    /// A new database with the v0.3 schema and no rows.
    public static async Task<string> CreateAtV03Async(PostgresFixture postgres)
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var run = NewRun(connectionString, V03);
        await run.ApplyAsync(UpgradePhase.Migrate, commit: true, CancellationToken.None);
        return connectionString;
    }

    public static UpgradeRun NewRun(string connectionString, AppVersion target) =>
        new(connectionString, Catalog, target, new MigrationSettings(), $"test-{Guid.NewGuid():N}"[..13]);

    static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Build.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"No Build.sln above {AppContext.BaseDirectory}: the tests must run from the repository's build output.");
    }
}
