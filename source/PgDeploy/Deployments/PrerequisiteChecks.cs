using PgDeploy.Application;
using PgDeploy.Migrations;
using PgDeploy.Migrations.Analysis;
using PgDeploy.Migrations.History;
using PgDeploy.Migrations.PostProcessing;
using PgDeploy.Rehearsals;
using PgDeploy.Safety;
using PgDeploy.Safety.Fence;
using Serilog;

namespace PgDeploy.Deployments;

/// Every check before anything changes, all reported together: at night, one round trip to fix everything beats
/// finding problems one run at a time. A deployment that continues needs only the checks of the steps it has left.
sealed class PrerequisiteChecks(DeploymentRequest request, DeploymentSite site, DeploymentJournal? unfinished)
{
    /// <param name="Rehearsal">The passing rehearsal of this plan, when there is one: it predicts the window and each step's ETA.</param>
    /// <param name="Findings">What the analysis of the pending scripts found, acknowledged or not: they go into the report.</param>
    public sealed record Outcome(IReadOnlyList<CheckRecord> Checks, UpgradePlan Plan, RehearsalRecord? Rehearsal = null, IReadOnlyList<Finding>? Findings = null);

    readonly List<Finding> findings = [];

    public async Task<Outcome> RunAsync(string runId, CancellationToken cancellationToken)
    {
        var state = unfinished?.State ?? DeploymentState.Idle;
        var preflight = new Preflight();
        UpgradePlan? plan = null;
        await preflight.CheckAsync("connection", () => DescribeServerAsync(cancellationToken));
        await preflight.CheckAsync("migrations", async () => Describe(plan = await PlanAsync(unfinished?.RunId ?? runId, cancellationToken)));
        await preflight.CheckAsync("deployment lock", () => Task.FromResult("was free; held by this run until it ends"));
        if (plan is { IsEmpty: true } && unfinished is null)
            return new Outcome(preflight.Checks, plan);
        RehearsalRecord? rehearsal = null;
        if (plan is not null && unfinished is null)
            await preflight.CheckAsync("rehearsal", () =>
            {
                (rehearsal, var figure) = RehearsalRecord.ForDeployment(request, site.Identity, plan);
                return Task.FromResult(figure);
            });
        if (plan is not null && unfinished is null)
            await preflight.CheckAsync("lint", () => LintAsync(plan, cancellationToken));

        if (state < DeploymentState.Harbored || StateMachine.IsAfterWindow(state))
            await preflight.CheckAsync("backup directory", () => DiskSpace.CheckRoomForBackupAsync(site.ConnectionString, request.BackupDirectory, cancellationToken));
        if (state < DeploymentState.Harbored)
        {
            if (request.BackupFile is { } given)
                await preflight.CheckAsync("given safe harbor", () => Harbors.CheckGivenAsync(given, cancellationToken));
            else
                await preflight.CheckAsync("safe harbor mode", async () =>
                    (await Harbors.ChooseCloneAsync(cancellationToken)) is var clone && clone.Possible
                        ? $"clone+dump: {clone.Reason}{await Harbors.DescribeCloneHindranceAsync(cancellationToken)}"
                        : $"dump inside the fence: {clone.Reason}");
        }
        await preflight.CheckAsync("hooks and checks", () =>
        {
            ApplicationEnvironment.CheckReferences(request.Settings);
            return Task.FromResult("refer to no credential of the runner");
        });
        await preflight.CheckAsync("client tools", () => Harbors.Backup.CheckClientToolsAsync(site.ConnectionString, cancellationToken));
        await preflight.CheckAsync("rights to restore", () => SafeHarborRestore.CheckPrerequisitesAsync(site.ConnectionString, cancellationToken));
        // What pg_restore re-checks when it re-adds constraints: a dump of rows that break one cannot be restored.
        if (state < DeploymentState.Harbored)
            await preflight.CheckAsync("constraints hold", () =>
                RestorableConstraints.CheckAsync(site.ConnectionString, request.Settings.Migrations.ScriptStatementTimeout, cancellationToken));
        if (state < DeploymentState.Fenced)
        {
            PlanAnalysis.Report? analysis = null;
            if (plan is not null)
                await preflight.CheckAsync("data checks", async () => CheckData(analysis = await AnalyzeAsync(plan, cancellationToken)));
            if (analysis is not null)
                await preflight.CheckAsync("window estimate", () => Task.FromResult(CheckWindow(analysis)));
            await preflight.CheckAsync("write fence", () => CheckFenceAsync(cancellationToken));
            // Without a plan (the migrations check failed) there is nothing to survey, and no second failure to report.
            if (plan is not null)
                await preflight.CheckAsync("precomputed", () => SurveyAsync(plan, cancellationToken));
        }

        preflight.ThrowIfFailed(unfinished is null
            ? ""
            : $"Deployment {unfinished.RunId} stays {StateMachine.Describe(state)}; next: {StateMachine.NextCommand(state, unfinished.FromVersion, unfinished.TargetVersion, request.EnvironmentName)}.");
        ConfirmProduction(plan!);
        return new Outcome(preflight.Checks, plan!, rehearsal, findings);
    }

    HarborKeeper Harbors => new(request, site);

    async Task<string> DescribeServerAsync(CancellationToken cancellationToken)
    {
        await using var connection = await site.OpenAsync(cancellationToken);
        return $"PostgreSQL {connection.PostgreSqlVersion} at {connection.Host}:{connection.Port}, database {connection.Database} as {connection.UserName}";
    }

    async Task<UpgradePlan> PlanAsync(string runId, CancellationToken cancellationToken)
    {
        var target = request.TargetVersion
                     ?? (unfinished is not null ? AppVersion.Parse(unfinished.TargetVersion) : throw new DeploymentException(
                         "No --version given: name the application version to deploy, e.g. --version 0.4."));
        await using var connection = await site.OpenAsync(cancellationToken);
        return UpgradePlanner.Plan(request.Catalog(), await HistoryTable.ReadAsync(connection, null, cancellationToken), target, runId);
    }

    async Task<string> LintAsync(UpgradePlan plan, CancellationToken cancellationToken)
    {
        await using var connection = await site.OpenAsync(cancellationToken);
        var lint = await new ScriptLinter(request.SqlTools).LintAsync(plan, request.Catalog(), connection.PostgreSqlVersion, cancellationToken);
        findings.AddRange(lint.Findings);
        // Each finding in build.log and the report, and under its script in Plan: a version's dozens of warnings would bury the console's checks.
        foreach (var finding in lint.Findings.Where(finding => !finding.Refuses))
            Log.Debug("        {Finding}", finding);
        lint.ThrowIfRefused();
        return lint.Findings.Count > 0 ? $"{lint.Figure}; each in build.log, the report and Plan" : lint.Figure;
    }

    static string Describe(UpgradePlan plan) =>
        plan.IsEmpty
            ? $"the database is at {plan.CurrentVersion}: nothing to deploy"
            : $"{plan.CurrentVersion?.ToString() ?? "empty"} -> {plan.TargetVersion}: {plan.Steps.Count} step(s) in {plan.PendingVersions.Count} version(s)";

    /// What Precompute has stored so far, and what the data steps would compute inside the window if the fence went up now.
    async Task<string> SurveyAsync(UpgradePlan plan, CancellationToken cancellationToken)
    {
        var coverage = await DataStepPrecompute.RunAsync(
            site.ConnectionString, plan, StepMode.Survey, request.Settings.Migrations, request.Console.Progress, cancellationToken);
        return coverage.Count == 0 ? "the plan has no C# data step" : string.Join("; ", coverage.Select(transform => transform.Describe()));
    }

    Task<PlanAnalysis.Report> AnalyzeAsync(UpgradePlan plan, CancellationToken cancellationToken) =>
        PlanAnalysis.RunAsync(site.ConnectionString, plan, request.SqlTools, request.Settings.Migrations.ScriptStatementTimeout, cancellationToken);

    /// Each pending statement's needs checked against today's data, and the objects it names against the plan so far.
    string CheckData(PlanAnalysis.Report report)
    {
        findings.AddRange(report.Findings);
        foreach (var finding in report.Findings.Where(finding => !finding.Refuses))
            Log.Debug("        {Finding}", finding);
        var refusals = report.Refusals.ToList();
        if (refusals.Count > 0)
            throw new DeploymentException(
                $"{refusals.Count} statement(s) of the plan would fail inside the window on today's data or schema:{Environment.NewLine}" +
                string.Join(Environment.NewLine, refusals.Select(finding => $"      {finding} Statement: {finding.StatementExcerpt}")));
        var skipped = report.Skipped.Count();
        return $"{report.Statements} statement(s), {report.Checked} data check(s) on today's rows: none would fail" +
               (skipped > 0 ? $"; {skipped} not derivable (each in build.log and Plan)" : "");
    }

    /// The scripts' estimated time inside the fence against window.budget: over it, production refuses before anyone is fenced.
    string CheckWindow(PlanAnalysis.Report report)
    {
        if (report.Throughput is null)
            return "not estimated: the server's throughput could not be measured (see the warning above)";
        foreach (var cost in report.Costs.Where(cost => cost.Work.Count > 0))
            Log.Debug("        {Cost}", cost.Describe());
        var total = report.EstimatedSeconds;
        var figure = $"scripts est. {StatementCost.Format(total)} inside the fence (measured here: {report.Throughput}; an estimate, each statement's in build.log and Plan)";
        if (request.Settings.Window.Budget is not { } budget)
            return figure;
        if (total <= budget.TotalSeconds)
            return $"{figure}, within window.budget {StatementCost.Format(budget.TotalSeconds)}";
        var costliest = string.Join(", ", report.ByScript.Where(script => script.Seconds > 0).Take(5).Select(script => $"{script.Script} {StatementCost.Format(script.Seconds)}"));
        var message = $"The scripts are estimated at {StatementCost.Format(total)} inside the fence, over window.budget {StatementCost.Format(budget.TotalSeconds)} of '{request.EnvironmentName}': {costliest}. " +
                      "Move the costly work out of the window (a NOT VALID constraint validated after it, an index built CONCURRENTLY in a no-transaction script, a C# step Precompute can run), " +
                      "or raise window.budget if the window is really that long; Rehearse measures it on a copy.";
        if (request.Settings.Production)
            throw new DeploymentException(message);
        Log.Warning("{Message}", message);
        return $"{figure}, OVER window.budget {StatementCost.Format(budget.TotalSeconds)} (allowed outside production)";
    }

    async Task<string> CheckFenceAsync(CancellationToken cancellationToken)
    {
        var settings = request.Settings;
        if (settings.Fence.Roles.Count == 0)
            return settings.Production
                ? throw new DeploymentException(
                    $"'{request.EnvironmentName}' is a production environment but names no application roles to fence (fence.roles in {request.Environment.SettingsFile}): " +
                    "without a fence the application could write during the upgrade and those writes would be lost on a rollback. Name the roles the application connects as.")
                : "no application roles named: not fenced (allowed outside production)";
        var check = await new WriteFence(site.ConnectionString, settings.Fence).CheckAsync(cancellationToken);
        check.ThrowIfCannotHold();
        return $"can fence {string.Join(", ", settings.Fence.Roles)}";
    }

    /// Production waits for an explicit "y"; without a terminal only --yes (in CI: after the protected
    /// environment's reviewers approved) lets it go on.
    void ConfirmProduction(UpgradePlan plan)
    {
        if (!request.Settings.Production || request.Confirmed)
            return;
        var what = unfinished is null
            ? $"deploy {plan.TargetVersion} to '{request.EnvironmentName}' (database {site.Identity.Database})"
            : $"continue deployment {unfinished.RunId} of {unfinished.TargetVersion} to '{request.EnvironmentName}' (database {site.Identity.Database})";
        if (!request.Console.CanAsk)
            throw new DeploymentRefusedException(
                $"'{request.EnvironmentName}' is a production environment and there is no terminal to confirm: refusing to {what}. " +
                "Pass --yes when the deployment was approved (in CI, by the protected environment's reviewers); nothing was changed.");
        var answer = request.Console.Ask($"Type y to {what}:");
        if (!answer.Trim().Equals("y", StringComparison.OrdinalIgnoreCase))
            throw new DeploymentRefusedException($"Not confirmed (answer '{answer}'); nothing was changed.");
    }
}
