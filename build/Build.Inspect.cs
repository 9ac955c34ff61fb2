using PgDeploy.Migrations;
using PgDeploy.Reporting;
using Serilog;
using TargetEngine;

partial class Build
{
    Target Status => _ => _
        .Description("Show the database's version, the pending versions and scripts, and drift; changes nothing")
        .Executes(async cancellationToken =>
        {
            var status = await UpgradeStatus.ReadAsync(await ConnectionStringAsync(cancellationToken), Catalog, cancellationToken);
            Log.Information("{Status}", status.Describe());
            var report = TemporaryDirectory / "status.json";
            await JsonReport.WriteAsync(report, status, cancellationToken);
            ReportSummary($"version {status.CurrentVersion ?? "none"}, {status.PendingSteps.Count} pending, report {report.Name}");
        });

    Target Plan => _ => _
        .Description("Show which scripts and steps a deployment to --version runs, in which target and transaction; changes nothing")
        .Requires(() => Version)
        .Executes(async cancellationToken => await (await UpgradeAsync(cancellationToken)).PlanAsync(cancellationToken));

    Target Baseline => _ => _
        .Description("Adopt a database that never saw this tool as being at --version")
        .Requires(() => Version)
        .Executes(async cancellationToken =>
        {
            await PgDeploy.Migrations.Baseline.MarkAsync(await ConnectionStringAsync(cancellationToken), TargetVersion, RunId, TargetEnvironment.Settings.Migrations, cancellationToken);
            ReportSummary($"baselined at {TargetVersion}");
        });
}
