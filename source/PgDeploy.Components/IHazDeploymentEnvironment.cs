using PgDeploy.Migrations;
using TargetEngine;

namespace PgDeploy.Components;

/// <summary>
/// The parameters that name the database and the version, and the deployment made from them: the base of the upgrade's
/// components. A build that implements any of them writes the deployment's report when it finishes and exits with the code
/// the deployment's outcome carries.
/// </summary>
public interface IHazDeploymentEnvironment : IBuild
{
    [Parameter("Environment to deploy to: 'local' (a throwaway PostgreSQL under .nuke/temp) or a name with settings in environments/<name>.json")]
    string TargetEnv => TryGetValue(() => TargetEnv) ?? "local";

    [Parameter("Application version to bring the database to, e.g. 0.4 (a folder migrations/v0.4)")]
    string? Version => TryGetValue(() => Version);

    [Parameter("Folder holding one sub-folder per application version (default: migrations/)")]
    AbsolutePath? MigrationsDir => TryGetValue(() => MigrationsDir);

    [Parameter("Answer yes to the production confirmation when no terminal can ask (CI)")]
    bool Yes => TryGetValue(() => Yes);

    [Parameter("Use this safe harbor instead of taking one: accepted only if it is of this database and its current history, taken inside the write fence that is up now (by a Backup stage of this deployment), and verified")]
    AbsolutePath? BackupFile => TryGetValue(() => BackupFile);

    [Parameter("For a manual Rollback without a terminal: the name of the database, as confirmation")]
    string? ConfirmDatabase => TryGetValue(() => ConfirmDatabase);

    [Parameter("For a manual Rollback after Restart: discard what the application wrote since the fence was lifted")]
    bool DiscardWritesSinceRestart => TryGetValue(() => DiscardWritesSinceRestart);

    [Parameter("Deployment journal shared by the stages of one deployment, e.g. a CI artifact (default: .nuke/temp/deployments/<database>-<cluster id>/journal.json)")]
    AbsolutePath? Journal => TryGetValue(() => Journal);

    [Parameter("Make a target fail on purpose after its work, to see Rollback at work (refused in production environments)")]
    FailurePoint? InjectFailure => TryGetValue(() => InjectFailure);

    [Parameter("For an environment that is a fleet of databases: the one of them to act on (without it, Deploy deploys them all in waves)")]
    string? Database => TryGetValue(() => Database);

    AbsolutePath MigrationsDirectory => MigrationsDir ?? RootDirectory / "migrations";

    /// <summary>Where environments/&lt;name&gt;.json live; override to keep them elsewhere.</summary>
    AbsolutePath EnvironmentsDirectory => RootDirectory / "environments";

    /// <summary>Where the C# data steps are found: by default the build's own assembly, which compiles migrations/**/*.cs.</summary>
    IEnumerable<Type> MigrationStepTypes => GetType().Assembly.GetTypes();

    /// <summary>The deployment this run acts on, made once from the parameters.</summary>
    DeploymentContext Upgrade => GetOrCreate(() => new DeploymentContext(this));

    /// <summary>The deployment's report, and its outcome's exit code, whichever of the upgrade's targets ran.</summary>
    [OnBuildFinished]
    void FinishDeployment(BuildResult result) => Upgrade.Finish(result);
}

/// <summary>The targets whose failure Rollback answers.</summary>
public enum FailurePoint { MaintenanceOn, Backup, Migrate, PostProcess, Verify }
