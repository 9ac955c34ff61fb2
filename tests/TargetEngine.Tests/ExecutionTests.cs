namespace TargetEngine.Tests;

public sealed class ExecutionTests : IDisposable
{
    readonly Sandbox sandbox = new();

    BuildResult Deploy(params string[] args) => sandbox.RunWithDefaults<DeployBuild>(args, x => x.Deploy);

    [Fact]
    public void Successful_build_skips_the_failure_triggered_target()
    {
        var result = Deploy();

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["Backup", "Migrate", "Verify", "Deploy", "Rollback", "Report"], result.Names());
        Assert.Equal(TargetStatus.Collective, result.StatusOf("Deploy"));
        Assert.Equal(TargetStatus.Skipped, result.StatusOf("Rollback"));
        Assert.Equal(["no failure in Migrate, Verify"], result.Target("Rollback").Notes);
        Assert.Contains("Build succeeded on ", sandbox.Output);
        Assert.DoesNotContain("\u001b", sandbox.Output);
    }

    [Fact]
    public void Failure_of_a_watched_target_runs_the_failure_triggered_target_after_it()
    {
        var result = Deploy("--fail-at", "Verify");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(TargetStatus.Failed, result.StatusOf("Verify"));
        Assert.Equal(["Verify broke"], result.Target("Verify").Notes);
        Assert.Equal(TargetStatus.NotRun, result.StatusOf("Deploy"));
        Assert.Equal(TargetStatus.Succeeded, result.StatusOf("Rollback"));
        Assert.Equal(TargetStatus.Succeeded, result.StatusOf("Report"));
        Assert.True(result.Names().ToList().IndexOf("Rollback") > result.Names().ToList().IndexOf("Verify"));
        Assert.Matches(@"Build failed on [\d-]+ [\d:]+: Verify failed; Rollback succeeded\.", sandbox.Output);
    }

    [Fact]
    public void Bare_skip_keeps_the_failure_triggered_target_so_a_ci_stage_still_rolls_back()
    {
        var result = sandbox.Run<DeployBuild>("Migrate", "--skip", "--fail-at", "Migrate");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(TargetStatus.Skipped, result.StatusOf("Backup"));
        Assert.Equal(TargetStatus.Failed, result.StatusOf("Migrate"));
        Assert.Equal(TargetStatus.Succeeded, result.StatusOf("Rollback"));
    }

    [Fact]
    public void Naming_the_failure_triggered_target_in_skip_disarms_it()
    {
        var result = sandbox.Run<DeployBuild>("Migrate", "--skip", "Backup", "Rollback", "--fail-at", "Migrate");

        Assert.Equal(TargetStatus.Failed, result.StatusOf("Migrate"));
        Assert.Equal(TargetStatus.Skipped, result.StatusOf("Rollback"));
        Assert.Equal(["skipped via --skip"], result.Target("Rollback").Notes);
    }

    [Fact]
    public void Failure_of_an_unwatched_target_does_not_run_the_failure_triggered_target()
    {
        var result = Deploy("--fail-at", "Backup");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(TargetStatus.NotRun, result.StatusOf("Migrate"));
        Assert.Equal(TargetStatus.Skipped, result.StatusOf("Rollback"));
        Assert.Equal(["no failure in Migrate, Verify"], result.Target("Rollback").Notes);
        Assert.Equal(TargetStatus.Succeeded, result.StatusOf("Report"));
        Assert.Contains("Backup failed; Rollback skipped.", sandbox.Output);
    }

    [Fact]
    public void Failure_of_the_failure_triggered_target_is_reported_and_assured_targets_still_run()
    {
        var result = Deploy("--fail-at", "Migrate", "--fail-rollback");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(TargetStatus.Failed, result.StatusOf("Rollback"));
        Assert.Equal(TargetStatus.Succeeded, result.StatusOf("Report"));
        Assert.Equal(TargetStatus.NotRun, result.StatusOf("Verify"));
        Assert.Contains("Migrate failed; Rollback failed.", sandbox.Output);
        Assert.Contains("[ERR] Rollback: restore failed", sandbox.Output);
    }

    [Fact]
    public void Failure_triggered_target_invoked_by_name_runs_normally()
    {
        var result = Deploy("Rollback");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["Rollback"], result.Names());
        Assert.Equal(TargetStatus.Succeeded, result.StatusOf("Rollback"));
    }

    [Fact]
    public void Summary_shows_notes_collective_rows_and_unlisted_targets_that_ran()
    {
        var result = Deploy();

        Assert.Equal(["applied 3 migrations"], result.Target("Migrate").Notes);
        Assert.Matches(@"Migrate\s+Succeeded\s+< 1sec\s+applied 3 migrations", sandbox.Output);
        Assert.Matches(@"Deploy\s+Collective", sandbox.Output);
        Assert.Matches(@"Report\s+Succeeded", sandbox.Output);
        Assert.Matches(@"Total\s+.*< 1sec", sandbox.Output);
    }

    [Fact]
    public void OnBuildFinished_sees_the_final_statuses()
    {
        Deploy("--fail-at", "Verify");

        Assert.Equal(1, DeployBuild.Finished!.ExitCode);
        Assert.Equal(TargetStatus.Succeeded, DeployBuild.Finished.Target("Rollback").Status);
    }

    [Fact]
    public void Failure_logs_the_message_without_stack_trace_unless_verbose()
    {
        Deploy("--fail-at", "Verify");
        Assert.Contains("[ERR] Verify broke", sandbox.Output);
        Assert.DoesNotContain("   at ", sandbox.Output);
        Assert.Contains("Errors & Warnings\n[ERR] Verify: Verify broke", sandbox.Output);
        Assert.Contains("   at ", sandbox.Read(".nuke/temp/build.log"));

        Deploy("--fail-at", "Verify", "--verbosity", "verbose");
        Assert.Contains("   at ", sandbox.Output);
    }

    class AbortBuild : BuildBase
    {
        public static List<string> Events { get; } = [];

        Target Prepare => _ => _.Executes(() => { });

        Target Migrate => _ => _
            .DependsOn(Prepare)
            .Executes(async token =>
            {
                RequestAbort();
                await Task.Delay(Timeout.Infinite, token);
            });

        Target Verify => _ => _.DependsOn(Migrate).Executes(() => { });

        Target Rollback => _ => _
            .TriggeredByFailureOf(Migrate)
            .Executes(token =>
            {
                Events.Add($"rollback token cancelled: {token.IsCancellationRequested}, abort token cancelled: {AbortToken.IsCancellationRequested}");
                RequestAbort();
                return Task.CompletedTask;
            });

        Target Report => _ => _.TriggeredBy(Prepare).After(Verify, Rollback).AssuredAfterFailure().Executes(() => Events.Add("report"));
    }

    [Fact]
    public void Abort_marks_the_running_target_aborted_then_runs_assured_and_failure_triggered_targets()
    {
        AbortBuild.Events.Clear();

        var result = sandbox.Run<AbortBuild>("Verify");

        Assert.Equal(130, result.ExitCode);
        Assert.Equal(TargetStatus.Succeeded, result.StatusOf("Prepare"));
        Assert.Equal(TargetStatus.Aborted, result.StatusOf("Migrate"));
        Assert.Equal(TargetStatus.NotRun, result.StatusOf("Verify"));
        Assert.Equal(TargetStatus.Succeeded, result.StatusOf("Rollback"));
        Assert.Equal(TargetStatus.Succeeded, result.StatusOf("Report"));
        Assert.Equal(["rollback token cancelled: False, abort token cancelled: False", "report"], AbortBuild.Events);
        Assert.Contains("assured and failure-triggered targets will not be interrupted", sandbox.Output);
        Assert.Contains("Migrate aborted; Rollback succeeded.", sandbox.Output);
    }

    class ProceedBuild : BuildBase
    {
        Target Lint => _ => _.ProceedAfterFailure().Executes(() => throw new InvalidOperationException("style"));
        Target Compile => _ => _.DependsOn(Lint).Executes(() => { });
        Target Test => _ => _.DependsOn(Compile).Executes(() => throw new InvalidOperationException("red"));
        Target Pack => _ => _.DependsOn(Test).Executes(() => { });
    }

    [Fact]
    public void ProceedAfterFailure_lets_the_build_continue_but_it_still_fails()
    {
        var result = sandbox.Run<ProceedBuild>("Pack");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal([TargetStatus.Failed, TargetStatus.Succeeded, TargetStatus.Failed, TargetStatus.NotRun], result.Targets.Select(x => x.Status));
        Assert.Contains("Lint failed, Test failed.", sandbox.Output);
    }

    class ConditionBuild : BuildBase
    {
        [Parameter] readonly bool Enabled = false;

        Target Restore => _ => _.Executes(() => { });
        Target Compile => _ => _.DependsOn(Restore).OnlyWhenStatic(() => Enabled).Executes(() => { });
        Target Test => _ => _.DependsOn(Compile).OnlyWhenDynamic(() => SucceededTargets.Contains("Compile")).Executes(() => { });
        Target Pack => _ => _.DependsOn(Compile).Executes(() => { });
    }

    [Fact]
    public void OnlyWhenStatic_skips_the_target_and_its_exclusive_dependencies_with_the_condition_as_note()
    {
        var result = sandbox.Run<ConditionBuild>("Test");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["because Compile is skipped"], result.Target("Restore").Notes);
        Assert.Equal(["OnlyWhen: Enabled"], result.Target("Compile").Notes);
        Assert.Equal(TargetStatus.Skipped, result.StatusOf("Test"));
        Assert.Equal(["OnlyWhen: SucceededTargets.Contains(\"Compile\")"], result.Target("Test").Notes);
        Assert.Contains("OnlyWhen: Enabled", sandbox.Output);
    }

    [Fact]
    public void OnlyWhenDynamic_is_evaluated_right_before_the_target_runs()
    {
        var result = sandbox.Run<ConditionBuild>("Test", "--enabled");

        Assert.All(result.Targets, x => Assert.Equal(TargetStatus.Succeeded, x.Status));
    }

    [Fact]
    public void OnlyWhenDynamic_skips_even_an_invoked_target()
    {
        var result = sandbox.Run<ConditionBuild>("Test", "--skip", "Compile");

        Assert.Equal(TargetStatus.Skipped, result.StatusOf("Test"));
        Assert.Equal(["skipped via --skip"], result.Target("Compile").Notes);
    }

    [Fact]
    public void Bare_skip_skips_every_target_that_was_not_invoked()
    {
        var result = sandbox.Run<ConditionBuild>("Pack", "--enabled", "--skip");

        Assert.Equal(TargetStatus.Skipped, result.StatusOf("Restore"));
        Assert.Equal(TargetStatus.Skipped, result.StatusOf("Compile"));
        Assert.Equal(TargetStatus.Succeeded, result.StatusOf("Pack"));
        Assert.Equal(["skipped via --skip"], result.Target("Restore").Notes);
    }

    [Fact]
    public void Named_skip_accepts_spaces_and_plus()
    {
        var withPlus = sandbox.Run<DeployBuild>("Deploy", "--skip", "Backup+Report");
        Assert.Equal(TargetStatus.Skipped, withPlus.StatusOf("Backup"));
        Assert.Equal(TargetStatus.Skipped, withPlus.StatusOf("Report"));
        Assert.Equal(TargetStatus.Succeeded, withPlus.StatusOf("Migrate"));

        var withSpace = sandbox.Run<DeployBuild>("Deploy", "--skip", "Backup", "Report");
        Assert.Equal(withPlus.Targets.Select(x => x.Status), withSpace.Targets.Select(x => x.Status));
    }

    class ThrowingConditionBuild : BuildBase
    {
        Target Work => _ => _.OnlyWhenStatic(() => int.Parse("x") > 0).Executes(() => { });
    }

    [Fact]
    public void Static_condition_that_throws_is_a_usage_error()
    {
        var result = sandbox.Run<ThrowingConditionBuild>("Work");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(TargetStatus.Scheduled, result.StatusOf("Work"));
        Assert.Contains("Target 'Work': 'int.Parse(\"x\") > 0' threw FormatException:", sandbox.Output);
    }

    class RequiresBuild : BuildBase
    {
        [Parameter("Version to deploy")] readonly string? Version = null;
        [Parameter] readonly string[] Hosts = [];

        Target Backup => _ => _.Executes(() => { });
        Target Migrate => _ => _.DependsOn(Backup).Requires(() => Version).Requires(() => Hosts.Length > 1).Executes(() => { });
    }

    [Fact]
    public void Unmet_requirements_are_reported_together_before_anything_runs()
    {
        var result = sandbox.Run<RequiresBuild>("Migrate");

        Assert.Equal(2, result.ExitCode);
        Assert.All(result.Targets, x => Assert.Equal(TargetStatus.Scheduled, x.Status));
        Assert.Contains(
            "Target 'Migrate' requires parameter --version: pass --version <value>, set VERSION in the environment, or add \"Version\" to .nuke/parameters.json.",
            sandbox.Output);
        Assert.Contains("Target 'Migrate' requires 'Hosts.Length > 1'.", sandbox.Output);
    }

    [Fact]
    public void Met_requirements_let_the_build_run()
    {
        sandbox.Environment["VERSION"] = "17";

        var result = sandbox.Run<RequiresBuild>("Migrate", "--hosts", "a", "b");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(TargetStatus.Succeeded, result.StatusOf("Migrate"));
    }

    class ExitCodeBuild : BuildBase
    {
        Target Work => _ => _.Executes(() => { });
        protected override void OnBuildFinished(BuildResult result) => ExitCode = result.ExitCode + 3;
    }

    [Fact]
    public void Exit_code_set_by_the_build_wins()
    {
        var result = sandbox.Run<ExitCodeBuild>("Work");

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("Build failed on", sandbox.Output);
        Assert.Contains(": exit code 3.", sandbox.Output);
    }

    public void Dispose() => sandbox.Dispose();
}
