using TargetEngine;

partial class Build
{
    [Parameter("Environment to deploy to: 'local' (a throwaway PostgreSQL under .nuke/temp) or a name with settings in environments/<name>.json")]
    readonly string TargetEnv = "local";

    [Parameter("Application version to bring the database to, e.g. 0.4 (a folder migrations/v0.4)")]
    readonly string? Version;

    [Parameter("Folder holding one sub-folder per application version (default: migrations/)")]
    readonly AbsolutePath? MigrationsDir;

    [Parameter("Answer yes to the production confirmation when no terminal can ask (CI)")]
    readonly bool Yes;

    [Parameter("Use this safe harbor instead of taking one: accepted only if it is of this database and its current history, taken inside the write fence that is up now (by a Backup stage of this deployment), and verified")]
    readonly AbsolutePath? BackupFile;

    [Parameter("For a manual Rollback without a terminal: the name of the database, as confirmation")]
    readonly string? ConfirmDatabase;

    [Parameter("For a manual Rollback after Restart: discard what the application wrote since the fence was lifted")]
    readonly bool DiscardWritesSinceRestart;

    [Parameter("Deployment journal shared by the stages of one deployment, e.g. a CI artifact (default: .nuke/temp/deployments/<database>-<cluster id>/journal.json)")]
    readonly AbsolutePath? Journal;

    [Parameter("Make a target fail on purpose after its work, to see Rollback at work (refused in production environments)")]
    readonly FailurePoint? InjectFailure;

    /// The targets whose failure Rollback answers.
    enum FailurePoint { MaintenanceOn, Backup, Migrate, PostProcess, Verify }

    AbsolutePath MigrationsDirectory => MigrationsDir ?? RootDirectory / "migrations";
}
