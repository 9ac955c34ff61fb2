using TargetEngine.Cli;

namespace TargetEngine;

internal static class ExecutionPlanner
{
    public static void Validate(IReadOnlyList<ExecutableTarget> targets)
    {
        var duplicate = targets.GroupBy(x => Arguments.Normalize(x.Name)).FirstOrDefault(x => x.Count() > 1);
        if (duplicate is not null)
            throw new InvalidUsageException($"Targets {string.Join(" and ", duplicate)} have the same name.");
        if (targets.FirstOrDefault(x => x.AllDependencies.Contains(x)) is { } selfDependent)
            throw new InvalidUsageException($"Target '{selfDependent}' cannot depend on itself.");

        var finished = new HashSet<ExecutableTarget>();
        var path = new List<ExecutableTarget>();

        void Visit(ExecutableTarget target)
        {
            if (path.Contains(target))
                throw new InvalidUsageException($"Circular dependency: {string.Join(" -> ", path.SkipWhile(x => x != target).Append(target))}");
            if (!finished.Add(target))
                return;
            path.Add(target);
            foreach (var dependency in target.AllDependencies)
                Visit(dependency);
            path.Remove(target);
        }

        foreach (var target in targets)
            Visit(target);
    }

    public static IReadOnlyList<ExecutableTarget> Plan(IReadOnlyList<ExecutableTarget> targets, IEnumerable<ExecutableTarget> invoked)
    {
        var members = new HashSet<ExecutableTarget>();
        var pending = new Queue<ExecutableTarget>(invoked);
        while (pending.TryDequeue(out var target))
        {
            if (members.Add(target))
                target.ExecutionDependencies.Concat(target.Triggers).Concat(target.FailureTriggers).ToList().ForEach(pending.Enqueue);
        }

        var remaining = targets.Where(members.Contains).ToList();
        var plan = new List<ExecutableTarget>();
        while (remaining.Count > 0)
        {
            var next = remaining.First(x => !x.AllDependencies.Any(remaining.Contains));
            remaining.Remove(next);
            plan.Add(next);
        }

        return plan;
    }

    public static ExecutableTarget Find(IReadOnlyList<ExecutableTarget> targets, string name) =>
        targets.FirstOrDefault(x => Arguments.Normalize(x.Name) == Arguments.Normalize(name))
        ?? throw new InvalidUsageException(
            $"Target '{name}' does not exist.{Suggestion.DidYouMean(name, targets.Select(x => x.Name))} Available targets: {string.Join(", ", targets.Select(x => x.Name))}.");
}
