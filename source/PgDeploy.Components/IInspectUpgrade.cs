using PgDeploy.Migrations;
using PgDeploy.Migrations.Analysis;
using PgDeploy.Reporting;
using Serilog;
using TargetEngine;

namespace PgDeploy.Components;

/// <summary>Targets that look and change nothing: they never start a deployment, nor touch its journal.</summary>
public interface IInspectUpgrade : IHazDeploymentEnvironment
{
    Target Status => _ => _
        .Description("Show the database's version, what is pending, drift, the unfinished deployment, the fence, and the command that goes on; changes nothing")
        .Executes(async cancellationToken =>
        {
            var status = await Upgrade.Deployment.StatusAsync(cancellationToken);
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
            var connectionString = await Upgrade.ConnectionStringAsync(cancellationToken);
            var settings = Upgrade.Environment.Settings.Migrations;
            await using var run = new UpgradeRun(connectionString, Upgrade.Catalog, Upgrade.TargetVersion!.Value, settings, "plan");
            var plan = await run.PlanAsync(cancellationToken, new ScriptLinter(Upgrade.SqlTools));
            if (!plan.IsEmpty)
                Log.Information("{Analysis}", (await PlanAnalysis.RunAsync(connectionString, plan, Upgrade.SqlTools, settings.ScriptStatementTimeout, cancellationToken)).Describe());
        });
}
