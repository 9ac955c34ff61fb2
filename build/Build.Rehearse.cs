using PgDeploy.Rehearsals;
using TargetEngine;

/// The deployment rehearsed on a scratch copy: nothing of it touches the live database but a read.
partial class Build
{
    Target Rehearse => _ => _
        .Description("Dump the live database (no fence), restore it into a scratch database, run Migrate, PostProcess and Verify there as Deploy will, time them, drop the scratch; changes nothing live")
        .Requires(() => Version)
        .Executes(async cancellationToken => ReportSummary(await new Rehearsal(Request, RehearsalServerUrl).RunAsync(cancellationToken)));

    /// From the variable rehearsal.server names (environment or .env), never from the settings file: it holds a password.
    string? RehearsalServerUrl =>
        TargetEnvironment.Settings.Rehearsal.Server is { } variable
            ? TargetEnvironment.RemoteConnectionString(RootDirectory / ".env", System.Environment.GetEnvironmentVariable, variable)
            : null;
}
