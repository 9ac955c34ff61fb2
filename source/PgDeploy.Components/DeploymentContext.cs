using System.Reflection;
using PgDeploy.Deployments;
using PgDeploy.Environments;
using PgDeploy.Fleets;
using PgDeploy.Migrations;
using PgDeploy.Migrations.Analysis;
using PgDeploy.Postgres;
using Serilog;
using TargetEngine;

namespace PgDeploy.Components;

/// <summary>
/// What the upgrade's targets act on, made from the build's parameters once per run: the environment, the migrations, the
/// connection and the <see cref="Deployments.Deployment"/>. The build holds it; the deployment code owns the deployment's state.
/// </summary>
public sealed class DeploymentContext(IHazDeploymentEnvironment build)
{
    public DeploymentEnvironment Environment => environment ??= DeploymentEnvironment.Load(build.EnvironmentsDirectory, build.TargetEnv);
    DeploymentEnvironment? environment;

    public MigrationCatalog Catalog => catalog ??= MigrationCatalog.Load(build.MigrationsDirectory, build.MigrationStepTypes);
    MigrationCatalog? catalog;

    public Deployment Deployment => deployment ??= new Deployment(Request);
    Deployment? deployment;

    /// <summary>
    /// The repository the build program was built from (recorded as AssemblyMetadata BuildRepositoryRoot), wherever --root points;
    /// else the root. Its tools belong to the build, as NUKE's do.
    /// </summary>
    public AbsolutePath BuildRepository =>
        build.GetType().Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(metadata => metadata.Key == "BuildRepositoryRoot")?.Value is { } recorded
            ? (AbsolutePath)recorded
            : build.RootDirectory;

    /// <summary>The SQL tools build.sh installed in the build's repository.</summary>
    public SqlTools SqlTools => SqlTools.In(BuildRepository);

    /// <summary>The local environment needs nothing installed but PostgreSQL: its cluster lives under .nuke/temp.</summary>
    public AbsolutePath LocalClusterDirectory => build.TemporaryDirectory / "postgres";

    /// <summary>Settings of the local environment that a run wrote (the Demo's API address, say), read like .env.</summary>
    public AbsolutePath LocalSettingsFile => build.TemporaryDirectory / "local.env";

    public AppVersion? TargetVersion =>
        build.Version is not { } version ? null
        : AppVersion.TryParse(version, out var parsed) ? parsed
        : throw new DeploymentRefusedException($"--version '{version}' is not an application version: write MAJOR.MINOR, e.g. --version 0.4 (folders are named v0.4); nothing was changed.");

    /// <summary>What this run asks of the database: the deployment's steps and Rehearse alike.</summary>
    public DeploymentRequest Request => new()
    {
        Environment = Environment,
        ConnectionString = ConnectionStringAsync,
        Catalog = () => Catalog,
        SqlTools = SqlTools,
        RootDirectory = build.RootDirectory,
        DeploymentsDirectory = build.TemporaryDirectory / "deployments",
        JournalPath = build.Journal?.ToString(),
        TargetVersion = TargetVersion,
        BackupFile = build.BackupFile?.ToString(),
        InjectFailure = build.InjectFailure?.ToString(),
        ConfirmDatabase = build.ConfirmDatabase,
        DiscardWritesSinceRestart = build.DiscardWritesSinceRestart,
        Confirmed = build.Yes,
        Console = new TerminalConsole(build),
        EnvironmentFiles = [build.RootDirectory / ".env", .. Environment.IsLocal ? [LocalSettingsFile] : Array.Empty<string>()],
    };

    /// <summary>From the variable rehearsal.server names (environment or .env), never from the settings file: it holds a password.</summary>
    public string? RehearsalServerUrl =>
        Environment.Settings.Rehearsal.Server is { } variable
            ? Environment.RemoteConnectionString(build.RootDirectory / ".env", System.Environment.GetEnvironmentVariable, variable)
            : null;

    /// <summary>The database this run acts on: the environment's, or with --database the fleet's database of that name.</summary>
    public async Task<string> ConnectionStringAsync(CancellationToken cancellationToken) =>
        connectionString ??= await DatabaseConnectionStringAsync(cancellationToken);

    async Task<string> DatabaseConnectionStringAsync(CancellationToken cancellationToken)
    {
        if (Environment.Settings.Fleet is null)
            return build.Database is { } database
                ? throw new DeploymentRefusedException(
                    $"--database {database}: environment '{build.TargetEnv}' is one database, not a fleet (its settings have no fleet). " +
                    "Leave out --database, or name the fleet environment with --target-env; nothing was changed.")
                : await EnvironmentConnectionStringAsync(cancellationToken);
        if (build.Database is not { } member)
            throw new DeploymentRefusedException(
                $"Environment '{build.TargetEnv}' is a fleet of databases: name one with --database <name>, or run " +
                $"./build.sh Deploy --version <version> --target-env {build.TargetEnv} to deploy them all in waves; nothing was changed.");
        var members = await FleetAsync(cancellationToken);
        return members.Contains(member)
            ? DatabaseAdmin.WithDatabase(await EnvironmentConnectionStringAsync(cancellationToken), member)
            : throw new DeploymentRefusedException(
                $"--database {member} is not one of the databases of fleet '{build.TargetEnv}' ({string.Join(", ", members.Databases)}). Name one of them; nothing was changed.");
    }

    string? connectionString;

    /// <summary>
    /// Deploy on a fleet environment without --database deploys every database in its own process, instead of one procedure
    /// here. An environment that cannot be read is no fleet: the procedure's Prerequisites report it, where an operator looks.
    /// </summary>
    public bool IsFleetRun
    {
        get
        {
            try
            {
                return Environment.Settings.Fleet is not null && build.Database is null;
            }
            catch (DeploymentException)
            {
                return false;
            }
        }
    }

    /// <summary>The fleet's databases, checked to be on the server, and their waves.</summary>
    public async Task<Fleet> FleetAsync(CancellationToken cancellationToken) =>
        fleet ??= await Fleet.ResolveAsync(build.TargetEnv, Environment.Settings.Fleet!, await EnvironmentConnectionStringAsync(cancellationToken), cancellationToken);
    Fleet? fleet;

    /// <summary>Every database of the fleet deployed by a process of this build program of its own, in waves; the fleet report.</summary>
    public async Task<string> DeployFleetAsync(CancellationToken cancellationToken)
    {
        var target = TargetVersion!.Value;
        RefuseServerWideFenceInParallel();
        if (Environment.Settings.Production && !build.Yes)
            throw new DeploymentRefusedException(
                $"Fleet '{build.TargetEnv}' is production and its databases deploy without a terminal each: review the plan " +
                $"(./build.sh Plan --version {target} --target-env {build.TargetEnv} --database <one of them>), then run again with --yes; nothing was changed.");
        var members = await FleetAsync(cancellationToken);
        var server = await EnvironmentConnectionStringAsync(cancellationToken);
        var run = $"{build.TargetEnv}-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}";
        // A second run of the fleet would wait on, or be refused by, each database the first is deploying: it is refused once, here.
        await using var fleetLock = await DeploymentLock.AcquireFleetAsync(server, build.TargetEnv, $"fleet {run}", Environment.Settings.Migrations.DeploymentLockWait, cancellationToken);
        var reports = build.TemporaryDirectory / "fleets" / run;
        var deployment = new FleetDeployment(members, target, (database, token) => DeployMemberAsync(database, reports, token),
            database => DatabaseAdmin.WithDatabase(server, database), build.TemporaryDirectory / "deployments");
        var report = await deployment.RunAsync(reports, cancellationToken);
        return report.Failure(reports / "fleet.md") is { } failure ? throw failure : $"{report.Summary}; report {reports / "fleet.md"}";
    }

    /// A fence of roles holds for the whole server, wherever the deployments run: on this machine or as a CI engine's jobs.
    void RefuseServerWideFenceInParallel()
    {
        if (Environment.Settings.Fence is { Scope: FenceScope.Roles, Roles.Count: > 0 } && Environment.Settings.Fleet!.Parallelism > 1)
            throw new DeploymentRefusedException(
                $"Fleet '{build.TargetEnv}' deploys {Environment.Settings.Fleet.Parallelism} databases at a time and fences the roles {string.Join(", ", Environment.Settings.Fence.Roles)} " +
                "with fence.scope roles: a role's NOLOGIN holds for the whole server, so one deployment's Restart would lift the fence of another still running. " +
                "Leave out fence.scope (a fleet's fence is per database by default), or set fleet.parallelism to 1; nothing was changed.");
    }

    /// <summary>The fleet as a CI job matrix: written to $GITHUB_OUTPUT when a GitHub Actions step runs it, and logged.</summary>
    public async Task<string> WriteFleetMatrixAsync(CancellationToken cancellationToken)
    {
        if (Environment.Settings.Fleet is null)
            throw new DeploymentRefusedException($"Environment '{build.TargetEnv}' is one database, not a fleet: its settings have no fleet. Name a fleet environment with --target-env; nothing was changed.");
        RefuseServerWideFenceInParallel();
        var matrix = FleetMatrix.Of(await FleetAsync(cancellationToken));
        foreach (var output in matrix.GitHubOutputs)
            Log.Information("{Output}", output);
        if (System.Environment.GetEnvironmentVariable("GITHUB_OUTPUT") is { Length: > 0 } outputs)
            await File.AppendAllLinesAsync(outputs, matrix.GitHubOutputs, cancellationToken);
        return $"{matrix.Canary.Count} canary and {matrix.Rest.Count} other database(s), {matrix.MaxParallel} at a time, fail-fast {matrix.FailFast.ToString().ToLowerInvariant()}";
    }

    /// One database's own Deploy, as an operator would run it with --database; its logs go to a folder of its own beside the report.
    async Task<(int?, string)> DeployMemberAsync(string database, AbsolutePath reports, CancellationToken cancellationToken)
    {
        string[] arguments = ["Deploy", "--version", build.Version!, "--target-env", build.TargetEnv, "--database", database, "--root", build.RootDirectory,
            "--migrations-dir", build.MigrationsDirectory, .. build.Yes ? ["--yes"] : Array.Empty<string>()];
        var logs = reports / database;
        return (await BuildProgramProcess.RunAsync(arguments, logs, cancellationToken), BuildProgramProcess.OutputLog(logs));
    }

    async Task<string> EnvironmentConnectionStringAsync(CancellationToken cancellationToken) =>
        Environment.IsLocal
            ? await LocalConnectionStringAsync(Environment.Settings.LocalDatabase!, cancellationToken)
            : Environment.RemoteConnectionString(build.RootDirectory / ".env", System.Environment.GetEnvironmentVariable);

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

    /// <summary>Work stays in the open transaction while a later target of this process can still commit it.</summary>
    public bool CommitsAfter(params string[] laterTargets) => !laterTargets.Any(build.ScheduledTargets.Contains);

    /// <summary>The end of every run that touched a deployment: its report, and the exit code its outcome carries.</summary>
    internal void Finish(BuildResult result)
    {
        // Bad input found before the deployment could be made (an unknown environment, say) carries its own exit code.
        var thrown = result.Targets.Select(target => target.Failure).OfType<DeploymentException>().Select(failure => failure.ExitCode).ToList();
        var interrupted = result.ExitCode == ExitCodes.Interrupted || result.Targets.Any(target => target.Status == TargetStatus.Aborted);
        // A person needed (a fleet's database, say) outweighs the interrupt that stopped the rest.
        build.ExitCode = deployment?.ExitCode(interrupted)
                         ?? (thrown.Contains(ExitCodes.PersonNeeded) ? ExitCodes.PersonNeeded
                             : interrupted ? ExitCodes.Interrupted : thrown.Count > 0 ? thrown.Max() : build.ExitCode);
        if (deployment is null)
            return;
        // A stage of a CI pipeline skips the others with --skip: they belong to the processes that run them.
        var targets = result.Targets
            .Where(target => target.Status != TargetStatus.Collective && !target.Notes.Contains("skipped via --skip"))
            .Select(target => new TargetOutcome(target.Name, target.Status.ToString(), target.Duration, target.Notes, DateTimeOffset.UtcNow))
            .ToList();
        if (deployment.WriteReport(targets, Outcome(result)) is { } report)
        {
            Log.Information("Report: {Markdown}", report.Markdown);
            if (System.Environment.GetEnvironmentVariable("GITHUB_STEP_SUMMARY") is { Length: > 0 } stepSummary)
                File.AppendAllText(stepSummary, File.ReadAllText(report.Markdown) + System.Environment.NewLine);
        }
        deployment.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    static string Outcome(BuildResult result)
    {
        var failed = result.Targets.Where(target => target.Status is TargetStatus.Failed or TargetStatus.Aborted).ToList();
        var rollback = result.Targets.FirstOrDefault(target => target.Name == nameof(IPostgresUpgrade.Rollback) && target.Status is TargetStatus.Succeeded);
        return failed.Count == 0
            ? $"Succeeded: {string.Join(", ", result.Targets.Where(target => target.Status == TargetStatus.Succeeded).Select(target => target.Name))}."
            : $"Failed: {string.Join(", ", failed.Select(target => $"{target.Name} {target.Status}"))}{(rollback is null ? "" : "; Rollback Succeeded")}.";
    }
}
