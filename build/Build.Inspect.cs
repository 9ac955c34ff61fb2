using PgDeploy.Migrations;
using PgDeploy.Migrations.Analysis;
using PgDeploy.Reporting;
using Serilog;
using TargetEngine;

/// Targets that look and change nothing of a deployment: they never start one, nor touch its journal.
partial class Build
{
    Target Status => _ => _
        .Description("Show the database's version, what is pending, drift, the unfinished deployment, the fence, and the command that goes on; changes nothing")
        .Executes(async cancellationToken =>
        {
            var status = await Deployment.StatusAsync(cancellationToken);
            Log.Information("{Status}", status.Describe());
            var report = TemporaryDirectory / "status.json";
            await JsonReport.WriteAsync(report, status, cancellationToken);
            ReportSummary($"version {status.Database.CurrentVersion ?? "none"}, deployment: {status.State}; report {report.Name}");
        });

    Target Plan => _ => _
        .Description("Show which scripts and steps a deployment to --version runs, in which target and transaction; changes nothing")
        .Requires(() => Version)
        .Executes(async cancellationToken =>
        {
            await using var run = new UpgradeRun(await ConnectionStringAsync(cancellationToken), Catalog, TargetVersion!.Value, TargetEnvironment.Settings.Migrations, "plan");
            await run.PlanAsync(cancellationToken, new ScriptLinter(SqlTools));
        });

    Target Baseline => _ => _
        .Description("Adopt a database that never saw this tool as being at --version")
        .Requires(() => Version)
        .Executes(async cancellationToken =>
        {
            await PgDeploy.Migrations.Baseline.MarkAsync(await ConnectionStringAsync(cancellationToken), TargetVersion!.Value, "baseline", TargetEnvironment.Settings.Migrations, cancellationToken);
            ReportSummary($"baselined at {Version}");
        });
}
