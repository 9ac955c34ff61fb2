using PgDeploy;
using PgDeploy.Environments;
using PgDeploy.Migrations;
using PgDeploy.Postgres;
using PgDeploy.Reporting;
using Serilog;
using TargetEngine;

/// The state one process carries from target to target: the environment, its connection, the
/// deployment lock, the journal shared with the other stages, and the upgrade run.
partial class Build
{
    DeploymentEnvironment? targetEnvironment;
    string? connectionString;
    MigrationCatalog? catalog;
    DeploymentJournal? journal;
    DeploymentLock? deploymentLock;
    UpgradeRun? upgrade;

    DeploymentEnvironment TargetEnvironment => targetEnvironment ??= DeploymentEnvironment.Load(RootDirectory / "environments", TargetEnv);

    MigrationCatalog Catalog => catalog ??= MigrationCatalog.Load(MigrationsDirectory, typeof(Build).Assembly.GetTypes());

    AppVersion TargetVersion => AppVersion.Parse(Version!);

    /// Prerequisites starts a deployment's journal; the stages after it continue that journal, also
    /// when they run in another process of a CI pipeline.
    DeploymentJournal DeploymentJournal => journal ??= LoadOrStartJournal();

    /// A stage continues the deployment in progress, or starts one: reusing a finished deployment's run id would let
    /// it continue a version that deployment completed. Rollback and MaintenanceOff by hand act on the last one.
    DeploymentJournal LoadOrStartJournal() =>
        PgDeploy.Reporting.DeploymentJournal.Load(JournalPath) is { } last
        && (last.State == DeploymentState.InProgress || RollbackByHand || InvokedTargets.Contains(nameof(MaintenanceOff)))
            ? last
            : PgDeploy.Reporting.DeploymentJournal.Start(JournalPath, NewRunId(), TargetEnv);

    string RunId => DeploymentJournal.RunId;

    /// Short, because it appears in file and database names beside the deployment's time.
    static string NewRunId() => Guid.NewGuid().ToString("N")[..8];

    async Task<string> ConnectionStringAsync(CancellationToken cancellationToken) =>
        connectionString ??= TargetEnvironment.IsLocal
            ? await LocalConnectionStringAsync(TargetEnvironment.Settings.LocalDatabase!, cancellationToken)
            : TargetEnvironment.RemoteConnectionString(RootDirectory / ".env", System.Environment.GetEnvironmentVariable);

    AbsolutePath LocalClusterDirectory => TemporaryDirectory / "postgres";

    /// The local environment needs nothing installed but PostgreSQL: its cluster lives under .nuke/temp.
    async Task<string> LocalConnectionStringAsync(string database, CancellationToken cancellationToken)
    {
        var cluster = await LocalCluster.StartPersistentAsync(LocalClusterDirectory, cancellationToken);
        var server = cluster.ConnectionString();
        if (!await DatabaseAdmin.ExistsAsync(server, database, cancellationToken))
        {
            Log.Information("Creating database {Database} in the local PostgreSQL on port {Port}", database, cluster.Port);
            await DatabaseAdmin.CreateDatabaseAsync(server, database, cancellationToken: cancellationToken);
        }
        return cluster.ConnectionString(database);
    }

    /// Held from the first target that changes the database to the end of the process.
    async Task<DeploymentLock> LockAsync(CancellationToken cancellationToken) =>
        deploymentLock ??= await DeploymentLock.AcquireAsync(
            await ConnectionStringAsync(cancellationToken), RunId, TargetEnvironment.Settings.Migrations.DeploymentLockWait, cancellationToken);

    async Task<UpgradeRun> UpgradeAsync(CancellationToken cancellationToken) =>
        upgrade ??= new UpgradeRun(await ConnectionStringAsync(cancellationToken), Catalog, TargetVersion, TargetEnvironment.Settings.Migrations, RunId,
            await LockAsync(cancellationToken));

    /// Work stays in the open transaction while a later target of this process can still commit it.
    bool CommitsAfter(params string[] laterTargets) => !laterTargets.Any(ScheduledTargets.Contains);

    Task MigrateAsync(CancellationToken cancellationToken) =>
        ApplyAsync(UpgradePhase.Migrate, commit: CommitsAfter(nameof(PostProcess), nameof(Verify)), cancellationToken);

    Task PostProcessAsync(CancellationToken cancellationToken) =>
        ApplyAsync(UpgradePhase.PostProcess, commit: CommitsAfter(nameof(Verify)), cancellationToken);

    async Task ApplyAsync(UpgradePhase phase, bool commit, CancellationToken cancellationToken)
    {
        var run = await UpgradeAsync(cancellationToken);
        var plan = await run.PlanAsync(cancellationToken);
        DeploymentJournal.FromVersion ??= plan.CurrentVersion?.ToString();
        DeploymentJournal.TargetVersion = TargetVersion.ToString();
        var applied = await run.ApplyAsync(phase, commit, cancellationToken);
        DeploymentJournal.Record(phase.ToString(), applied.Count == 0
            ? "nothing to apply"
            : $"applied {string.Join(", ", applied.Select(step => step.DisplayName))}{(commit ? "; committed" : "; left in the open transaction for the next target")}");
        ReportSummary(applied.Count == 0 ? "nothing to apply" : $"{applied.Count} step(s){(commit ? ", committed" : ", not yet committed")}");
        FailIfInjected(phase.ToString());
    }

    /// Lets the demo and the tests show a rollback without a broken script.
    void FailIfInjected(string target)
    {
        if (InjectFailure?.ToString() != target)
            return;
        if (TargetEnvironment.Settings.Production)
            throw new DeploymentException($"--inject-failure is refused for '{TargetEnv}', a production environment. Leave it out.");
        throw new DeploymentException($"Failure injected into {target} with --inject-failure {InjectFailure}, after its work was done.");
    }

    protected override void OnBuildFinished(BuildResult result)
    {
        upgrade?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        deploymentLock?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        ExitCode = DeploymentExitCode(result);
        // A refused manual Rollback leaves the deployment's journal and report as they were: it changed nothing to record.
        if (journal is not null && !refusedBeforeAnyChange)
            WriteReport(result);
    }
}
