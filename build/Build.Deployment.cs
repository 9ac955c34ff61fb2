using System.Reflection;
using PgDeploy.Deployments;
using PgDeploy.Environments;
using PgDeploy.Migrations;
using PgDeploy.Migrations.Analysis;
using PgDeploy.Postgres;
using PgDeploy.Progress;
using Serilog;
using Serilog.Events;
using Spectre.Console;
using TargetEngine;

/// The deployment the targets act on, made from the parameters: the build holds it, the deployment code owns its state.
partial class Build
{
    DeploymentEnvironment TargetEnvironment => targetEnvironment ??= DeploymentEnvironment.Load(RootDirectory / "environments", TargetEnv);
    DeploymentEnvironment? targetEnvironment;

    MigrationCatalog Catalog => catalog ??= MigrationCatalog.Load(MigrationsDirectory, typeof(Build).Assembly.GetTypes());
    MigrationCatalog? catalog;

    /// The tools build.sh installed beside this build program, wherever --root points: they belong to the build, like NUKE's tools.
    static SqlTools SqlTools => SqlTools.In(typeof(Build).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(metadata => metadata.Key == "BuildRepositoryRoot").Value!);

    Deployment Deployment => deployment ??= new Deployment(Request);
    Deployment? deployment;

    /// What this run asks of the database: the deployment's steps and Rehearse alike.
    DeploymentRequest Request => new()
    {
        Environment = TargetEnvironment,
        ConnectionString = ConnectionStringAsync,
        Catalog = () => Catalog,
        SqlTools = SqlTools,
        RootDirectory = RootDirectory,
        DeploymentsDirectory = TemporaryDirectory / "deployments",
        JournalPath = Journal?.ToString(),
        TargetVersion = TargetVersion,
        BackupFile = BackupFile?.ToString(),
        InjectFailure = InjectFailure?.ToString(),
        ConfirmDatabase = ConfirmDatabase,
        DiscardWritesSinceRestart = DiscardWritesSinceRestart,
        Confirmed = Yes,
        Console = new TerminalConsole(IsInteractive, this),
        EnvironmentFiles = [RootDirectory / ".env", .. TargetEnvironment.IsLocal ? [LocalSettingsFile] : Array.Empty<string>()],
    };

    async Task<string> ConnectionStringAsync(CancellationToken cancellationToken) =>
        connectionString ??= TargetEnvironment.IsLocal
            ? await LocalConnectionStringAsync(TargetEnvironment.Settings.LocalDatabase!, cancellationToken)
            : TargetEnvironment.RemoteConnectionString(RootDirectory / ".env", System.Environment.GetEnvironmentVariable);
    string? connectionString;

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

    AppVersion? TargetVersion =>
        Version is null ? null
        : AppVersion.TryParse(Version, out var version) ? version
        : throw new PgDeploy.DeploymentRefusedException($"--version '{Version}' is not an application version: write MAJOR.MINOR, e.g. --version 0.4 (folders are named v0.4); nothing was changed.");

    /// Work stays in the open transaction while a later target of this process can still commit it.
    bool CommitsAfter(params string[] laterTargets) => !laterTargets.Any(ScheduledTargets.Contains);

    /// Spectre's prompt, when a person is at the terminal; long work as a progress bar there, as log lines every few seconds elsewhere.
    sealed class TerminalConsole(bool interactive, BuildBase build) : IOperatorConsole, IWorkProgress
    {
        static readonly LoggedProgress Lines = new();
        /// Beside a bar, the periodic lines would say the same again on the console: they go to the log file only.
        static readonly LoggedProgress FileLines = new(periodicLevel: LogEventLevel.Debug);

        public bool CanAsk => interactive;
        public string Ask(string question) => AnsiConsole.Ask<string>($"[yellow]{Markup.Escape(question)}[/]");
        public IWorkProgress Progress => this;

        public IWorkReport Begin(LongWork work) =>
            build.StartProgressBar(work.What, work.Total, amount => WorkAmount.Format(amount, work.Unit), work.TotalIsEstimate) is { } bar
                ? new BarReport(bar, FileLines.Begin(work))
                : Lines.Begin(work);
    }

    sealed class BarReport(ProgressBar bar, IWorkReport lines) : IWorkReport
    {
        public void Report(long done)
        {
            bar.Update(done);
            lines.Report(done);
        }

        public void Complete() => lines.Complete();

        /// The bar goes first, so that the work's last line is written below where it was.
        public void Dispose()
        {
            bar.Dispose();
            lines.Dispose();
        }
    }
}
