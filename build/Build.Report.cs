using PgDeploy.Deployments;
using Serilog;
using TargetEngine;

/// The end of every run that touched a deployment: its report, and the exit code its outcome carries.
partial class Build
{
    protected override void OnBuildFinished(BuildResult result)
    {
        // Bad input found before the deployment could be made (an unknown environment, say) carries its own exit code.
        var thrown = result.Targets.Select(target => target.Failure).OfType<PgDeploy.DeploymentException>().Select(failure => failure.ExitCode).ToList();
        ExitCode = deployment?.ExitCode(interrupted: result.ExitCode == 130 || result.Targets.Any(target => target.Status == TargetStatus.Aborted))
                   ?? (thrown.Count > 0 ? thrown.Max() : null);
        if (deployment is null)
            return;
        // A stage of a CI pipeline skips the others with --skip: they belong to the processes that run them.
        var targets = result.Targets
            .Where(target => target.Status != TargetStatus.Collective && !target.Notes.Contains("skipped via --skip"))
            .Select(target => new TargetOutcome(target.Name, target.Status.ToString(), target.Duration, target.Notes, DateTimeOffset.UtcNow))
            .ToList();
        if (deployment.WriteReport(targets, Outcome(result)) is { } report)
        {
            Log.Information("Report: {Markdown}", report.Markdown);
            if (System.Environment.GetEnvironmentVariable("GITHUB_STEP_SUMMARY") is { Length: > 0 } stepSummary)
                File.AppendAllText(stepSummary, File.ReadAllText(report.Markdown) + System.Environment.NewLine);
        }
        deployment.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    static string Outcome(BuildResult result)
    {
        var failed = result.Targets.Where(target => target.Status is TargetStatus.Failed or TargetStatus.Aborted).ToList();
        var rollback = result.Targets.FirstOrDefault(target => target.Name == nameof(Rollback) && target.Status is TargetStatus.Succeeded);
        return failed.Count == 0
            ? $"Succeeded: {string.Join(", ", result.Targets.Where(target => target.Status == TargetStatus.Succeeded).Select(target => target.Name))}."
            : $"Failed: {string.Join(", ", failed.Select(target => $"{target.Name} {target.Status}"))}{(rollback is null ? "" : "; Rollback Succeeded")}.";
    }
}
