using PgDeploy.Deployments;

namespace PgDeploy.Tests.Deployments;

/// The deployment's rules as tables a reviewer reads line by line: every state × step × {succeeds, fails, killed}.
/// A step that fails or is killed leaves the state written before its effect, so both share a column.
public sealed class StateMachineTests
{
    const string Env = "prod";

    /// state, step: decision; state after success; state after failure or kill.
    const string Automatic = """
        Idle           Prerequisites  run       Idle            Idle
        Idle           Precompute     run       Idle            Idle
        Idle           Fence          run       Fenced          Fencing
        Idle           Harbor         refused   Idle            Idle
        Idle           Migrate        refused   Idle            Idle
        Idle           PostProcess    refused   Idle            Idle
        Idle           Verify         refused   Idle            Idle
        Idle           Restart        refused   Idle            Idle
        Idle           Rollback       done      Idle            Idle
        Idle           LiftFence      run       Idle            Idle
        Fencing        Prerequisites  run       Fencing         Fencing
        Fencing        Precompute     done      Fencing         Fencing
        Fencing        Fence          run       Fenced          Fencing
        Fencing        Harbor         refused   Fencing         Fencing
        Fencing        Migrate        refused   Fencing         Fencing
        Fencing        PostProcess    refused   Fencing         Fencing
        Fencing        Verify         refused   Fencing         Fencing
        Fencing        Restart        refused   Fencing         Fencing
        Fencing        Rollback       run       RolledBack      RollingBack
        Fencing        LiftFence      run       Abandoned       Fencing
        Fenced         Prerequisites  run       Fenced          Fenced
        Fenced         Precompute     done      Fenced          Fenced
        Fenced         Fence          done      Fenced          Fenced
        Fenced         Harbor         run       Harbored        Harboring
        Fenced         Migrate        refused   Fenced          Fenced
        Fenced         PostProcess    refused   Fenced          Fenced
        Fenced         Verify         refused   Fenced          Fenced
        Fenced         Restart        refused   Fenced          Fenced
        Fenced         Rollback       run       RolledBack      RollingBack
        Fenced         LiftFence      run       Abandoned       Fenced
        Harboring      Prerequisites  run       Harboring       Harboring
        Harboring      Precompute     done      Harboring       Harboring
        Harboring      Fence          done      Harboring       Harboring
        Harboring      Harbor         run       Harbored        Harboring
        Harboring      Migrate        refused   Harboring       Harboring
        Harboring      PostProcess    refused   Harboring       Harboring
        Harboring      Verify         refused   Harboring       Harboring
        Harboring      Restart        refused   Harboring       Harboring
        Harboring      Rollback       run       RolledBack      RollingBack
        Harboring      LiftFence      run       Abandoned       Harboring
        Harbored       Prerequisites  run       Harbored        Harbored
        Harbored       Precompute     done      Harbored        Harbored
        Harbored       Fence          done      Harbored        Harbored
        Harbored       Harbor         done      Harbored        Harbored
        Harbored       Migrate        run       Applying        Applying
        Harbored       PostProcess    run       Applying        Applying
        Harbored       Verify         refused   Harbored        Harbored
        Harbored       Restart        refused   Harbored        Harbored
        Harbored       Rollback       run       RolledBack      RollingBack
        Harbored       LiftFence      run       Abandoned       Harbored
        Applying       Prerequisites  run       Applying        Applying
        Applying       Precompute     done      Applying        Applying
        Applying       Fence          done      Applying        Applying
        Applying       Harbor         done      Applying        Applying
        Applying       Migrate        run       Applying        Applying
        Applying       PostProcess    run       Applying        Applying
        Applying       Verify         run       Committed       Applying
        Applying       Restart        refused   Applying        Applying
        Applying       Rollback       run       RolledBack      RollingBack
        Applying       LiftFence      run       Abandoned       Applying
        Committed      Prerequisites  run       Committed       Committed
        Committed      Precompute     done      Committed       Committed
        Committed      Fence          done      Committed       Committed
        Committed      Harbor         done      Committed       Committed
        Committed      Migrate        done      Committed       Committed
        Committed      PostProcess    done      Committed       Committed
        Committed      Verify         done      Committed       Committed
        Committed      Restart        run       Completed       Restarting
        Committed      Rollback       run       RolledBack      RollingBack
        Committed      LiftFence      refused   Committed       Committed
        Restarting     Prerequisites  run       Restarting      Restarting
        Restarting     Precompute     done      Restarting      Restarting
        Restarting     Fence          done      Restarting      Restarting
        Restarting     Harbor         done      Restarting      Restarting
        Restarting     Migrate        done      Restarting      Restarting
        Restarting     PostProcess    done      Restarting      Restarting
        Restarting     Verify         done      Restarting      Restarting
        Restarting     Restart        run       Completed       Restarting
        Restarting     Rollback       refused   Restarting      Restarting
        Restarting     LiftFence      run       Restarting      Restarting
        Completed      Prerequisites  run       Idle            Idle
        Completed      Precompute     run       Idle            Idle
        Completed      Fence          run       Fenced          Fencing
        Completed      Harbor         refused   Idle            Idle
        Completed      Migrate        refused   Idle            Idle
        Completed      PostProcess    refused   Idle            Idle
        Completed      Verify         refused   Idle            Idle
        Completed      Restart        refused   Idle            Idle
        Completed      Rollback       done      Idle            Idle
        Completed      LiftFence      run       Idle            Idle
        RollingBack    Prerequisites  refused   RollingBack     RollingBack
        RollingBack    Precompute     refused   RollingBack     RollingBack
        RollingBack    Fence          refused   RollingBack     RollingBack
        RollingBack    Harbor         refused   RollingBack     RollingBack
        RollingBack    Migrate        refused   RollingBack     RollingBack
        RollingBack    PostProcess    refused   RollingBack     RollingBack
        RollingBack    Verify         refused   RollingBack     RollingBack
        RollingBack    Restart        refused   RollingBack     RollingBack
        RollingBack    Rollback       run       RolledBack      RollingBack
        RollingBack    LiftFence      refused   RollingBack     RollingBack
        AwaitingRevert Prerequisites  refused   AwaitingRevert  AwaitingRevert
        AwaitingRevert Precompute     refused   AwaitingRevert  AwaitingRevert
        AwaitingRevert Fence          refused   AwaitingRevert  AwaitingRevert
        AwaitingRevert Harbor         refused   AwaitingRevert  AwaitingRevert
        AwaitingRevert Migrate        refused   AwaitingRevert  AwaitingRevert
        AwaitingRevert PostProcess    refused   AwaitingRevert  AwaitingRevert
        AwaitingRevert Verify         refused   AwaitingRevert  AwaitingRevert
        AwaitingRevert Restart        refused   AwaitingRevert  AwaitingRevert
        AwaitingRevert Rollback       done      AwaitingRevert  AwaitingRevert
        AwaitingRevert LiftFence      run       RolledBack      AwaitingRevert
        RolledBack     Prerequisites  run       Idle            Idle
        RolledBack     Precompute     run       Idle            Idle
        RolledBack     Fence          run       Fenced          Fencing
        RolledBack     Harbor         refused   Idle            Idle
        RolledBack     Migrate        refused   Idle            Idle
        RolledBack     PostProcess    refused   Idle            Idle
        RolledBack     Verify         refused   Idle            Idle
        RolledBack     Restart        refused   Idle            Idle
        RolledBack     Rollback       done      Idle            Idle
        RolledBack     LiftFence      run       Idle            Idle
        Abandoned      Prerequisites  run       Idle            Idle
        Abandoned      Precompute     run       Idle            Idle
        Abandoned      Fence          run       Fenced          Fencing
        Abandoned      Harbor         refused   Idle            Idle
        Abandoned      Migrate        refused   Idle            Idle
        Abandoned      PostProcess    refused   Idle            Idle
        Abandoned      Verify         refused   Idle            Idle
        Abandoned      Restart        refused   Idle            Idle
        Abandoned      Rollback       done      Idle            Idle
        Abandoned      LiftFence      run       Idle            Idle
        """;

    [Fact]
    public void Every_state_and_step_ends_in_the_state_the_table_says_when_the_step_succeeds_fails_or_is_killed() =>
        Assert.Equal(Normalize(Automatic), Render(new Situation()));

    /// The cells that the situation changes: something committed, a rollback by hand, after a completed deployment.
    [Theory]
    [InlineData("Applying", "Rollback", true, false, false, false, "run Restore")]
    [InlineData("Applying", "Rollback", false, false, false, false, "run Undo")]
    [InlineData("Harbored", "Rollback", false, false, false, false, "run Undo")]
    [InlineData("Committed", "Rollback", false, false, false, false, "run Restore")]
    [InlineData("Applying", "LiftFence", true, false, false, false, "refused")]
    [InlineData("Idle", "Rollback", false, true, false, false, "refused")]
    [InlineData("Completed", "Rollback", false, true, false, true, "refused")]
    [InlineData("Completed", "Rollback", false, true, true, true, "run Restore")]
    [InlineData("Restarting", "Rollback", false, true, true, false, "run Restore")]
    public void The_situation_decides_between_undo_restore_and_refusal(
        string state, string step, bool committed, bool byHand, bool discardWrites, bool lastCompleted, string expected)
    {
        var admission = StateMachine.Admit(Enum.Parse<DeploymentState>(state), Enum.Parse<DeploymentStep>(step),
            new Situation(AnythingCommitted: committed, ByHand: byHand, DiscardWrites: discardWrites, LastCompleted: lastCompleted));
        Assert.Equal(expected, step == "Rollback" && admission.Decision == Admission.Verdict.Run ? $"run {admission.Mode}" : Decision(admission));
    }

    [Theory]
    [InlineData("Harbored", "Migrate")]
    [InlineData("Fenced", "Rollback")]
    [InlineData("Idle", "Prerequisites")]
    public void Another_versions_deployment_may_only_be_rolled_back_or_unfenced(string state, string step)
    {
        var situation = new Situation(OtherVersion: true);
        var admission = StateMachine.Admit(Enum.Parse<DeploymentState>(state), Enum.Parse<DeploymentStep>(step), situation);
        var unfinished = StateMachine.IsActive(Enum.Parse<DeploymentState>(state));
        var mayRun = !unfinished || step is "Rollback" or "LiftFence";
        Assert.Equal(mayRun, admission.Decision != Admission.Verdict.Refused);
        if (!mayRun)
            Assert.Contains("another version's deployment is unfinished", admission.Note);
    }

    [Fact]
    public void A_rollback_that_could_not_bring_the_previous_application_back_waits_for_the_code_to_be_reverted()
    {
        Assert.Equal(DeploymentState.AwaitingRevert, StateMachine.After(DeploymentState.RollingBack, DeploymentStep.Rollback, previousApplicationBack: false));
        Assert.Equal(DeploymentState.RolledBack, StateMachine.After(DeploymentState.RollingBack, DeploymentStep.Rollback, previousApplicationBack: true));
    }

    /// The one command that goes on from each state, as Status and every failure message print it.
    [Theory]
    [InlineData("Idle", "nothing: no deployment is unfinished")]
    [InlineData("Fencing", "./build.sh Deploy --version 0.4 --target-env prod continues it (./build.sh Rollback --target-env prod undoes it instead)")]
    [InlineData("Fenced", "./build.sh Deploy --version 0.4 --target-env prod continues it (./build.sh Rollback --target-env prod undoes it instead)")]
    [InlineData("Harboring", "./build.sh Deploy --version 0.4 --target-env prod continues it (./build.sh Rollback --target-env prod undoes it instead)")]
    [InlineData("Harbored", "./build.sh Deploy --version 0.4 --target-env prod continues it (./build.sh Rollback --target-env prod undoes it instead)")]
    [InlineData("Applying", "./build.sh Deploy --version 0.4 --target-env prod continues it (./build.sh Rollback --target-env prod undoes it instead)")]
    [InlineData("Committed", "./build.sh Deploy --version 0.4 --target-env prod finishes it with Restart")]
    [InlineData("Restarting", "./build.sh Deploy --version 0.4 --target-env prod finishes it with Restart")]
    [InlineData("RollingBack", "./build.sh Rollback --target-env prod finishes the rollback")]
    [InlineData("AwaitingRevert", "revert the application's code to 0.3, then ./build.sh MaintenanceOff --target-env prod lifts the fence")]
    [InlineData("Completed", "nothing: no deployment is unfinished")]
    [InlineData("RolledBack", "nothing: no deployment is unfinished")]
    [InlineData("Abandoned", "nothing: no deployment is unfinished")]
    public void Each_state_names_the_one_command_that_goes_on(string state, string command) =>
        Assert.Equal(command, StateMachine.NextCommand(Enum.Parse<DeploymentState>(state), "0.3", "0.4", Env));

    [Fact]
    public void The_table_covers_every_state_and_every_step() =>
        Assert.Equal(Enum.GetValues<DeploymentState>().Length * Enum.GetValues<DeploymentStep>().Length, Normalize(Automatic).Split('\n').Length);

    /// What the machine does in every cell: the admission, then the state the journal holds once the step has
    /// succeeded (After from the pending state) or once it failed or was killed (the pending state, written first).
    static string Render(Situation situation) => string.Join('\n',
        from state in Enum.GetValues<DeploymentState>()
        from step in Enum.GetValues<DeploymentStep>()
        let admission = StateMachine.Admit(state, step, situation)
        let decision = Decision(admission)
        let succeeded = admission.Decision == Admission.Verdict.Run ? StateMachine.After(admission.Pending, step) : admission.Pending
        select $"{state} {step} {decision} {succeeded} {admission.Pending}");

    static string Decision(Admission admission) => admission.Decision switch
    {
        Admission.Verdict.Run => "run",
        Admission.Verdict.AlreadyDone => "done",
        _ => "refused",
    };

    static string Normalize(string table) => string.Join('\n',
        table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries))));
}
