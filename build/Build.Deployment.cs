using PgDeploy.Environments;
using PgDeploy.Migrations;
using PgDeploy.Postgres;
using Serilog;
using TargetEngine;

/// The state one process carries from target to target: the environment, its connection, and the upgrade run.
partial class Build
{
    readonly string RunId = $"{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid().ToString("N")[..4]}";

    DeploymentEnvironment? targetEnvironment;
    string? connectionString;
    MigrationCatalog? catalog;
    UpgradeRun? upgrade;

    DeploymentEnvironment TargetEnvironment => targetEnvironment ??= DeploymentEnvironment.Load(RootDirectory / "environments", TargetEnv);

    MigrationCatalog Catalog => catalog ??= MigrationCatalog.Load(MigrationsDirectory, typeof(Build).Assembly.GetTypes());

    AppVersion TargetVersion => AppVersion.Parse(Version!);

    async Task<string> ConnectionStringAsync(CancellationToken cancellationToken) =>
        connectionString ??= TargetEnvironment.IsLocal
            ? await LocalConnectionStringAsync(TargetEnvironment.Settings.LocalDatabase!, cancellationToken)
            : TargetEnvironment.RemoteConnectionString(RootDirectory / ".env", System.Environment.GetEnvironmentVariable);

    /// The local environment needs nothing installed but PostgreSQL: its cluster lives under .nuke/temp.
    async Task<string> LocalConnectionStringAsync(string database, CancellationToken cancellationToken)
    {
        var cluster = await LocalCluster.StartPersistentAsync(TemporaryDirectory / "postgres", cancellationToken);
        var server = cluster.ConnectionString();
        if (!await DatabaseAdmin.ExistsAsync(server, database, cancellationToken))
        {
            Log.Information("Creating database {Database} in the local PostgreSQL on port {Port}", database, cluster.Port);
            await DatabaseAdmin.CreateDatabaseAsync(server, database, cancellationToken: cancellationToken);
        }
        return cluster.ConnectionString(database);
    }

    async Task<UpgradeRun> UpgradeAsync(CancellationToken cancellationToken) =>
        upgrade ??= new UpgradeRun(await ConnectionStringAsync(cancellationToken), Catalog, TargetVersion, TargetEnvironment.Settings.Migrations, RunId);

    /// Work stays in the open transaction while a later target of this process can still commit it.
    bool CommitsAfter(params string[] laterTargets) => !laterTargets.Any(ScheduledTargets.Contains);

    async Task ApplyAsync(UpgradePhase phase, bool commit, CancellationToken cancellationToken)
    {
        var applied = await (await UpgradeAsync(cancellationToken)).ApplyAsync(phase, commit, cancellationToken);
        ReportSummary(applied.Count == 0 ? "nothing to apply" : $"{applied.Count} step(s){(commit ? ", committed" : ", not yet committed")}");
    }

    protected override void OnBuildFinished(BuildResult result) =>
        upgrade?.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
