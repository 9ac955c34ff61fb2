using PgDeploy;
using PgDeploy.Reporting;
using Serilog;
using TargetEngine;

partial class Build
{
    void WriteReport(BuildResult result)
    {
        var finished = result.Targets.Where(target => target.Status is not (TargetStatus.Skipped or TargetStatus.NotRun or TargetStatus.Collective)).ToList();
        DeploymentJournal.State = StateAfter(result);
        var outcome = result.ExitCode == 0
            ? $"Succeeded: {string.Join(", ", finished.Select(target => target.Name))}."
            : $"Failed: {string.Join(", ", result.Targets.Where(target => target.Status is TargetStatus.Failed or TargetStatus.Aborted).Select(target => $"{target.Name} {target.Status}"))}" +
              (result.Targets.FirstOrDefault(target => target.Name == nameof(Rollback)) is { Status: not (TargetStatus.Skipped or TargetStatus.NotRun) } rollback
                  ? $"; Rollback {rollback.Status}."
                  : ".");
        var targets = result.Targets.Select(target => new TargetOutcome(target.Name, target.Status.ToString(), target.Duration, target.Notes, DateTimeOffset.UtcNow)).ToList();
        DeploymentJournal.Targets.AddRange(targets.Where(target => target.Status != nameof(TargetStatus.Collective) && !target.Notes.Contains("skipped via --skip")));
        DeploymentJournal.Save();
        var (markdown, json) = DeploymentReport.Write(DeploymentJournal, targets, outcome);
        Log.Information("Report: {Markdown} (JSON: {Json}); journal: {Journal}", markdown, json, DeploymentJournal.Path);
        if (System.Environment.GetEnvironmentVariable("GITHUB_STEP_SUMMARY") is { Length: > 0 } stepSummary)
            File.AppendAllText(stepSummary, File.ReadAllText(markdown) + System.Environment.NewLine);
    }

    bool refusedBeforeAnyChange;

    /// A refusal (bad input, unmet prerequisite, unconfirmed rollback) leaves everything as it was.
    DeploymentException Refused(string message)
    {
        refusedBeforeAnyChange = true;
        return new DeploymentException(message);
    }

    /// Exit codes an operator or a pipeline can act on: 0 deployed; 1 failed, database as before the
    /// deployment (rolled back, or nothing changed yet); 2 refused before anything changed; 3 a person is
    /// needed now: the rollback failed, or the application failed after the upgrade was committed;
    /// 130 interrupted by a signal.
    int? DeploymentExitCode(BuildResult result)
    {
        if (refusedBeforeAnyChange)
            return 2;
        bool Failed(string name) => result.Targets.Any(target => target.Name == name && target.Status is TargetStatus.Failed or TargetStatus.Aborted);
        if (Failed(nameof(Rollback)) || Failed(nameof(Restart)))
            return 3;
        if (Failed(nameof(Prerequisites)))
            return 2;
        return null;
    }

    DeploymentState StateAfter(BuildResult result)
    {
        TargetStatus StatusOf(string name) => result.Targets.FirstOrDefault(target => target.Name == name)?.Status ?? TargetStatus.None;
        if (StatusOf(nameof(Rollback)) == TargetStatus.Succeeded)
            return DeploymentState.RolledBack;
        if (StatusOf(nameof(Restart)) == TargetStatus.Succeeded)
            return DeploymentState.Succeeded;
        return result.ExitCode == 0 ? DeploymentJournal.State : DeploymentState.Failed;
    }
}
