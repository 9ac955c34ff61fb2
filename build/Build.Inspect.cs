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
        .Description("Show which scripts and steps a deployment to --version runs, in which target and transaction, what today's data says of each statement and its estimated cost; changes nothing")
        .Requires(() => Version)
        .Executes(async cancellationToken =>
        {
            var connectionString = await ConnectionStringAsync(cancellationToken);
            await using var run = new UpgradeRun(connectionString, Catalog, TargetVersion!.Value, TargetEnvironment.Settings.Migrations, "plan");
            var plan = await run.PlanAsync(cancellationToken, new ScriptLinter(SqlTools));
            if (!plan.IsEmpty)
                Log.Information("{Analysis}", (await PlanAnalysis.RunAsync(connectionString, plan, SqlTools, TargetEnvironment.Settings.Migrations.ScriptStatementTimeout, cancellationToken)).Describe());
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
