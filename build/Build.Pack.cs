using TargetEngine;

/// The packages an application's repository uses instead of a fork of this one.
partial class Build
{
    [Parameter("Folder the packages are written to (default: .nuke/temp/packages)")]
    readonly AbsolutePath? Output;

    [Parameter("Version of the packages (default: VersionPrefix in Directory.Build.props)")]
    readonly string? PackageVersion;

    /// The sources are those of the repository this build program was built from; --root only says where .nuke/temp is.
    Target Pack => _ => _
        .Description("Pack TargetEngine, PgDeploy, PgDeploy.Components and the dotnet new template PgDeploy.Templates into --output")
        .Executes(async cancellationToken =>
            ReportSummary(await new PackageBuilder(Upgrade.BuildRepository, Output ?? TemporaryDirectory / "packages", PackageVersion).PackAsync(TemporaryDirectory / "template", cancellationToken)));
}
