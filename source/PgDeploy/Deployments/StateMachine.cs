namespace PgDeploy.Deployments;

/// Where a deployment stands, as its journal records it. The states ending in -ing are written before their
/// step's effect (write-ahead): a run killed during the step leaves that state, and the next run knows which
/// step to redo. Idle means the database has no unfinished deployment.
public enum DeploymentState
{
    Idle,
    Fencing,
    Fenced,
    Harboring,
    Harbored,
    Applying,
    Committed,
    Restarting,
    Completed,
    RollingBack,
    AwaitingRevert,
    RolledBack,
    Abandoned,
}

/// What a target asks the deployment to do.
public enum DeploymentStep { Prerequisites, Precompute, Fence, Harbor, Migrate, PostProcess, Verify, Restart, Rollback, LiftFence }

/// How a rollback undoes a deployment: nothing of it is committed (lift the fence, start the previous version), or
/// something is (restore the safe harbor first).
public enum RollbackMode { Undo, Restore }

/// What the machine needs to know beyond the state: facts read from the database and the command line.
/// <param name="AnythingCommitted">Steps of this deployment are committed in the database (commit points, a CI stage, or Verify).</param>
/// <param name="OtherVersion">The run asks for another version than the unfinished deployment's.</param>
/// <param name="ByHand">Rollback was invoked by name, not triggered by a failure.</param>
/// <param name="DiscardWrites">--discard-writes-since-restart was given.</param>
/// <param name="LastCompleted">The last deployment finished (Completed): a rollback by hand may still restore its safe harbor.</param>
public sealed record Situation(
    bool AnythingCommitted = false, bool OtherVersion = false, bool ByHand = false, bool DiscardWrites = false, bool LastCompleted = false);

/// The machine's answer to a step: run it (after writing <see cref="Pending"/>), report it as done, or refuse it.
public sealed record Admission(Admission.Verdict Decision, DeploymentState Pending, string Note = "", RollbackMode Mode = RollbackMode.Undo)
{
    public enum Verdict { Run, AlreadyDone, Refused }

    public static Admission Run(DeploymentState pending, RollbackMode mode = RollbackMode.Undo) => new(Verdict.Run, pending, Mode: mode);
    public static Admission Done(DeploymentState state, string note) => new(Verdict.AlreadyDone, state, note);
    public static Admission Refuse(DeploymentState state, string reason) => new(Verdict.Refused, state, reason);
}

/// The deployment's rules in one place, free of effects so that every state × step is tested as a table: which
/// step may run in which state, what is written before it runs, what it leaves after success, and the one command
/// that continues from each state. A failed or killed step leaves its pending state; running the step again redoes it.
public static class StateMachine
{
    /// The steps of Deploy, in order; a step of this flow is done once the deployment has passed its state.
    static readonly DeploymentState[] Flow =
    [
        DeploymentState.Idle, DeploymentState.Fencing, DeploymentState.Fenced, DeploymentState.Harboring, DeploymentState.Harbored,
        DeploymentState.Applying, DeploymentState.Committed, DeploymentState.Restarting,
    ];

    public static bool IsTerminal(DeploymentState state) =>
        state is DeploymentState.Completed or DeploymentState.RolledBack or DeploymentState.Abandoned;

    /// Unfinished states that hold the database in the middle of a deployment.
    public static bool IsActive(DeploymentState state) => state != DeploymentState.Idle && !IsTerminal(state);

    public static Admission Admit(DeploymentState state, DeploymentStep step, Situation situation)
    {
        if (IsTerminal(state))
            state = DeploymentState.Idle;
        if (state is DeploymentState.RollingBack && step is not (DeploymentStep.Rollback or DeploymentStep.LiftFence))
            return Admission.Refuse(state, "a rollback of this deployment is unfinished");
        if (state is DeploymentState.AwaitingRevert && step is not (DeploymentStep.Rollback or DeploymentStep.LiftFence))
            return Admission.Refuse(state, "the database is rolled back and stays fenced until the application's code is reverted");
        if (situation.OtherVersion && IsActive(state) && step is not (DeploymentStep.Rollback or DeploymentStep.LiftFence))
            return Admission.Refuse(state, "another version's deployment is unfinished");

        return step switch
        {
            DeploymentStep.Prerequisites => Admission.Run(state),
            // Before the fence only: inside it, the data steps compute what is left themselves.
            DeploymentStep.Precompute => IsActive(state) ? Admission.Done(state, $"not needed: the deployment is {Describe(state)}") : Admission.Run(state),
            DeploymentStep.Fence => FlowStep(state, DeploymentState.Idle, DeploymentState.Fencing),
            DeploymentStep.Harbor => FlowStep(state, DeploymentState.Fenced, DeploymentState.Harboring),
            DeploymentStep.Migrate or DeploymentStep.PostProcess => FlowStep(state, DeploymentState.Harbored, DeploymentState.Applying),
            DeploymentStep.Verify => FlowStep(state, DeploymentState.Applying, DeploymentState.Applying),
            DeploymentStep.Restart => FlowStep(state, DeploymentState.Committed, DeploymentState.Restarting),
            DeploymentStep.Rollback => AdmitRollback(state, situation),
            DeploymentStep.LiftFence => AdmitLiftFence(state, situation),
            _ => throw new ArgumentOutOfRangeException(nameof(step), step, null),
        };
    }

    /// A step of Deploy runs from the state before it, is redone from its own pending state, is done once the
    /// deployment is past it, and is refused while an earlier step is missing.
    static Admission FlowStep(DeploymentState state, DeploymentState from, DeploymentState pending)
    {
        if (state == from || state == pending)
            return Admission.Run(pending);
        return Array.IndexOf(Flow, state) > Array.IndexOf(Flow, pending)
            ? Admission.Done(state, $"done already: the deployment is {Describe(state)}")
            : Admission.Refuse(state, $"this step needs the deployment to be {Describe(from)}, and it is {Describe(state)}");
    }

    static Admission AdmitRollback(DeploymentState state, Situation situation) => state switch
    {
        DeploymentState.Idle when situation.ByHand && situation.LastCompleted =>
            situation.DiscardWrites
                ? Admission.Run(DeploymentState.RollingBack, RollbackMode.Restore)
                : Admission.Refuse(state, "the application has been writing to the upgraded database since Restart lifted the fence, and a restore discards those writes: " +
                                          "export what must be kept, then run again with --discard-writes-since-restart"),
        DeploymentState.Idle when situation.ByHand => Admission.Refuse(state, "there is no deployment to roll back"),
        DeploymentState.Idle => Admission.Done(state, "nothing to roll back: this run changed nothing"),
        DeploymentState.Fencing or DeploymentState.Fenced or DeploymentState.Harboring or DeploymentState.Harbored =>
            Admission.Run(DeploymentState.RollingBack, RollbackMode.Undo),
        DeploymentState.Applying => Admission.Run(DeploymentState.RollingBack, situation.AnythingCommitted ? RollbackMode.Restore : RollbackMode.Undo),
        DeploymentState.Committed => Admission.Run(DeploymentState.RollingBack, RollbackMode.Restore),
        DeploymentState.Restarting when situation.DiscardWrites => Admission.Run(DeploymentState.RollingBack, RollbackMode.Restore),
        DeploymentState.Restarting =>
            Admission.Refuse(state, "Restart lifted the fence and the application may have been writing to the upgraded database since; a restore discards those writes: " +
                                    "export what must be kept, then run again with --discard-writes-since-restart"),
        // The mode is the one recorded when the rollback began; the caller keeps it.
        DeploymentState.RollingBack => Admission.Run(DeploymentState.RollingBack),
        DeploymentState.AwaitingRevert => Admission.Done(state, "the database is already rolled back; the fence stays up until the code is reverted"),
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    static Admission AdmitLiftFence(DeploymentState state, Situation situation) => state switch
    {
        DeploymentState.Idle or DeploymentState.Restarting or DeploymentState.AwaitingRevert => Admission.Run(state),
        DeploymentState.Fencing or DeploymentState.Fenced or DeploymentState.Harboring or DeploymentState.Harbored => Admission.Run(state),
        DeploymentState.Applying when !situation.AnythingCommitted => Admission.Run(state),
        DeploymentState.Applying =>
            Admission.Refuse(state, "part of the upgrade is committed, and lifting the fence would let the application write to a half-upgraded database"),
        DeploymentState.Committed =>
            Admission.Refuse(state, "the upgrade is committed but the new version of the application is not started; Restart lifts the fence and starts it"),
        DeploymentState.RollingBack =>
            Admission.Refuse(state, "a rollback is unfinished, and lifting the fence would let the application write to a database that is about to be replaced"),
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// The state a step leaves when it succeeds. A rollback ends fenced, waiting for the code to be reverted, only
    /// when the new version of the application ran and no revert hook brought the previous one back.
    /// LiftFence abandons a deployment that committed nothing, and ends one that waited for the code to be reverted.
    public static DeploymentState After(DeploymentState state, DeploymentStep step, bool previousApplicationBack = true) => step switch
    {
        DeploymentStep.Prerequisites or DeploymentStep.Precompute => state,
        DeploymentStep.Fence => Later(state, DeploymentState.Fenced),
        DeploymentStep.Harbor => Later(state, DeploymentState.Harbored),
        DeploymentStep.Migrate or DeploymentStep.PostProcess => Later(state, DeploymentState.Applying),
        DeploymentStep.Verify => Later(state, DeploymentState.Committed),
        DeploymentStep.Restart => DeploymentState.Completed,
        DeploymentStep.Rollback when state is DeploymentState.AwaitingRevert => state,
        DeploymentStep.Rollback => previousApplicationBack ? DeploymentState.RolledBack : DeploymentState.AwaitingRevert,
        DeploymentStep.LiftFence => state switch
        {
            DeploymentState.AwaitingRevert => DeploymentState.RolledBack,
            DeploymentState.Fencing or DeploymentState.Fenced or DeploymentState.Harboring or DeploymentState.Harbored or DeploymentState.Applying =>
                DeploymentState.Abandoned,
            _ => state,
        },
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, null),
    };

    static DeploymentState Later(DeploymentState state, DeploymentState reached) =>
        Array.IndexOf(Flow, state) > Array.IndexOf(Flow, reached) ? state : reached;

    /// The one command that goes on from a state: it finishes what the deployment started, or undoes it.
    public static string NextCommand(DeploymentState state, string? fromVersion, string? toVersion, string environment) => state switch
    {
        DeploymentState.Fencing or DeploymentState.Fenced or DeploymentState.Harboring or DeploymentState.Harbored or DeploymentState.Applying =>
            $"./build.sh Deploy --version {toVersion} --target-env {environment} continues it (./build.sh Rollback --target-env {environment} undoes it instead)",
        DeploymentState.Committed or DeploymentState.Restarting =>
            $"./build.sh Deploy --version {toVersion} --target-env {environment} finishes it with Restart",
        DeploymentState.RollingBack => $"./build.sh Rollback --target-env {environment} finishes the rollback",
        DeploymentState.AwaitingRevert =>
            $"revert the application's code to {fromVersion ?? "its previous version"}, then ./build.sh MaintenanceOff --target-env {environment} lifts the fence",
        _ => "nothing: no deployment is unfinished",
    };

    public static string Describe(DeploymentState state) => state switch
    {
        DeploymentState.Idle => "not started",
        DeploymentState.Fencing => "raising the fence",
        DeploymentState.Fenced => "fenced, without a safe harbor yet",
        DeploymentState.Harboring => "fenced, taking the safe harbor",
        DeploymentState.Harbored => "fenced, with its safe harbor",
        DeploymentState.Applying => "applying the upgrade",
        DeploymentState.Committed => "committed and verified, not restarted",
        DeploymentState.Restarting => "restarting the application",
        DeploymentState.Completed => "complete",
        DeploymentState.RollingBack => "rolling back",
        DeploymentState.AwaitingRevert => "rolled back, waiting for the code to be reverted",
        DeploymentState.RolledBack => "rolled back",
        DeploymentState.Abandoned => "abandoned before anything was committed",
        _ => state.ToString(),
    };
}
