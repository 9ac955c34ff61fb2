namespace TargetEngine;

internal sealed class ExecutableTarget(string name, TargetDefinition definition)
{
    public string Name => name;
    public TargetDefinition Definition => definition;
    public bool IsDefault { get; set; }
    public bool Invoked { get; set; }
    public List<ExecutableTarget> ExecutionDependencies { get; } = [];
    public List<ExecutableTarget> OrderDependencies { get; } = [];
    public List<ExecutableTarget> TriggerDependencies { get; } = [];
    public List<ExecutableTarget> FailureDependencies { get; } = [];
    public List<ExecutableTarget> Triggers { get; } = [];
    public List<ExecutableTarget> FailureTriggers { get; } = [];
    public TargetStatus Status { get; set; }
    public TimeSpan Duration { get; set; }
    public List<string> Notes { get; } = [];
    public Exception? Failure { get; set; }

    public IEnumerable<ExecutableTarget> AllDependencies =>
        ExecutionDependencies.Concat(OrderDependencies).Concat(TriggerDependencies).Concat(FailureDependencies);

    public bool InPlan => Status != TargetStatus.None;
    public IEnumerable<ExecutableTarget> WatchedTargets => FailureDependencies.Where(x => x.InPlan);
    public bool IsFailureTriggered => WatchedTargets.Any();
    public bool HasWatchedFailure => WatchedTargets.Any(x => x.Status is TargetStatus.Failed or TargetStatus.Aborted);

    public TargetResult ToResult() => new(Name, Status, Duration, [.. Notes], Failure);
    public override string ToString() => Name;
}
