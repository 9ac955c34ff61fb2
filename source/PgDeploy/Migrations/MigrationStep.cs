using PgDeploy.Migrations.Scripts;

namespace PgDeploy.Migrations;

public enum StepKind { Sql, CSharp }

/// One file of a version folder: `010_add_uuid.sql` or `020_HashPasswords.cs`, run in the order of its number.
public abstract record MigrationStep(AppVersion Version, int Order, string FileName, string Checksum)
{
    public abstract StepKind Kind { get; }
    public string DisplayName => $"{Version.FolderName}/{FileName}";
}

public sealed record SqlScriptStep(AppVersion Version, int Order, string FileName, string Checksum, ParsedScript Script)
    : MigrationStep(Version, Order, FileName, Checksum)
{
    public override StepKind Kind => StepKind.Sql;
    public bool RunsOutsideTransaction => Script.Directives.NoTransaction;
}

public sealed record CSharpStep(AppVersion Version, int Order, string FileName, string Checksum, Type StepType)
    : MigrationStep(Version, Order, FileName, Checksum)
{
    public override StepKind Kind => StepKind.CSharp;
}

public sealed record VersionMigrations(AppVersion Version, string Directory, IReadOnlyList<MigrationStep> Steps);
