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

    AbsolutePath MigrationsDirectory => MigrationsDir ?? RootDirectory / "migrations";
}
