using System.Runtime.CompilerServices;
using Migrations.V0_4;
using PgDeploy.Migrations;
using PgDeploy.Tests.Fixtures;

namespace SchoolApi.Tests.Support;

/// The sample school at v0.3 and at v0.4, made through the runner's API as ./build.sh Deploy makes them (so
/// pgdeploy.history records their versions) and shared by the tests of a run: building v0.4 hashes every password.
static class SchoolDatabases
{
    public const int Seed = 7;
    public const double Scale = 0.001;

    static readonly AppVersion V03 = new(0, 3);
    static readonly AppVersion V04 = new(0, 4);
    static readonly MigrationCatalog Catalog = MigrationCatalog.Load(Repository.Migrations, typeof(HashPasswords).Assembly.GetTypes());
    static readonly ConditionalWeakTable<PostgresFixture, Task<string>> AtV03 = new();
    static readonly ConditionalWeakTable<PostgresFixture, Task<string>> AtV04 = new();

    /// A superuser connection string to the sample school at the version ("0.3" or "0.4"). Tests may add rows, not remove them.
    public static Task<string> AtAsync(PostgresFixture postgres, string version) => version switch
    {
        "0.3" => AtV03.GetValue(postgres, server => CreateAsync(server, upgrade: false)),
        "0.4" => AtV04.GetValue(postgres, server => CreateAsync(server, upgrade: true)),
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, "The sample school has versions 0.3 and 0.4."),
    };

    static async Task<string> CreateAsync(PostgresFixture postgres, bool upgrade)
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using (var run = NewRun(connectionString, V03))
            await run.ApplyAsync(UpgradePhase.Migrate, commit: true, CancellationToken.None);
        await School.SampleData.GenerateAsync(connectionString, Scale, Seed);
        if (upgrade)
        {
            await using var run = NewRun(connectionString, V04);
            await run.ApplyAsync(UpgradePhase.Migrate, commit: false, CancellationToken.None);
            await run.ApplyAsync(UpgradePhase.PostProcess, commit: true, CancellationToken.None);
        }

        return connectionString;
    }

    static UpgradeRun NewRun(string connectionString, AppVersion target) =>
        new(connectionString, Catalog, target, new MigrationSettings(), $"api-{Guid.NewGuid():N}"[..12]);
}
