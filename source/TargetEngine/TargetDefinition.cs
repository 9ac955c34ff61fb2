using System.Text.RegularExpressions;

namespace TargetEngine;

internal sealed record Condition(Func<bool> IsMet, string Text);

internal sealed record Requirement(Func<object?> Value, string Text);

internal sealed partial class TargetDefinition : ITargetDefinition
{
    public string? DescriptionText { get; private set; }
    public List<Func<CancellationToken, Task>> Actions { get; } = [];
    public List<Target> DependsOnTargets { get; } = [];
    public List<Target> DependentForTargets { get; } = [];
    public List<Target> AfterTargets { get; } = [];
    public List<Target> BeforeTargets { get; } = [];
    public List<Target> TriggersTargets { get; } = [];
    public List<Target> TriggeredByTargets { get; } = [];
    public List<Target> TriggeredByFailureOfTargets { get; } = [];
    public List<Condition> StaticConditions { get; } = [];
    public List<Condition> DynamicConditions { get; } = [];
    public List<Requirement> Requirements { get; } = [];
    public bool ProceedsAfterFailure { get; private set; }
    public bool IsAssured { get; private set; }
    public bool IsListed { get; private set; } = true;

    public ITargetDefinition Description(string description) => Apply(() => DescriptionText = description);
    public ITargetDefinition Executes(Action action) => Executes(_ => { action(); return Task.CompletedTask; });
    public ITargetDefinition Executes(Func<Task> action) => Executes(_ => action());
    public ITargetDefinition Executes(Func<CancellationToken, Task> action) => Apply(() => Actions.Add(action));
    public ITargetDefinition DependsOn(params Target[] targets) => Apply(() => DependsOnTargets.AddRange(targets));
    public ITargetDefinition DependentFor(params Target[] targets) => Apply(() => DependentForTargets.AddRange(targets));
    public ITargetDefinition After(params Target[] targets) => Apply(() => AfterTargets.AddRange(targets));
    public ITargetDefinition Before(params Target[] targets) => Apply(() => BeforeTargets.AddRange(targets));
    public ITargetDefinition Triggers(params Target[] targets) => Apply(() => TriggersTargets.AddRange(targets));
    public ITargetDefinition TriggeredBy(params Target[] targets) => Apply(() => TriggeredByTargets.AddRange(targets));
    public ITargetDefinition TriggeredByFailureOf(params Target[] targets) => Apply(() => TriggeredByFailureOfTargets.AddRange(targets));
    public ITargetDefinition OnlyWhenStatic(Func<bool> condition, string? text = null) => Apply(() => StaticConditions.Add(new(condition, Strip(text))));
    public ITargetDefinition OnlyWhenDynamic(Func<bool> condition, string? text = null) => Apply(() => DynamicConditions.Add(new(condition, Strip(text))));
    public ITargetDefinition Requires(Func<object?> value, string? text = null) => Apply(() => Requirements.Add(new(value, Strip(text))));
    public ITargetDefinition ProceedAfterFailure() => Apply(() => ProceedsAfterFailure = true);
    public ITargetDefinition AssuredAfterFailure() => Apply(() => IsAssured = true);
    public ITargetDefinition Unlisted() => Apply(() => IsListed = false);

    ITargetDefinition Apply(Action change)
    {
        change();
        return this;
    }

    static string Strip(string? expression) => expression is null ? "<condition>" : LambdaPrefix().Replace(expression, "").Trim();

    [GeneratedRegex(@"^\s*\(\s*\)\s*=>\s*")]
    private static partial Regex LambdaPrefix();
}
