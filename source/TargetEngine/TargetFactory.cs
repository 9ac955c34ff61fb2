using System.Reflection;

namespace TargetEngine;

internal static class TargetFactory
{
    public static IReadOnlyList<ExecutableTarget> Create(BuildBase build, IReadOnlyCollection<string> defaultTargetNames)
    {
        var properties = TargetProperties(build.GetType());
        var delegates = properties.Select(x => (Target)x.GetValue(build)!).ToList();
        var targets = properties.Select((x, i) => new ExecutableTarget(x.Name, Define(delegates[i]))).ToList();

        ExecutableTarget Resolve(Target target) =>
            delegates.IndexOf(target) is var index and >= 0 ? targets[index] : throw new InvalidUsageException($"{build.GetType().Name} refers to a Target that is not one of its properties.");

        static void Link(List<ExecutableTarget> list, ExecutableTarget target)
        {
            if (!list.Contains(target))
                list.Add(target);
        }

        foreach (var target in targets)
        {
            var definition = target.Definition;
            definition.DependsOnTargets.Select(Resolve).ToList().ForEach(x => Link(target.ExecutionDependencies, x));
            definition.DependentForTargets.Select(Resolve).ToList().ForEach(x => Link(x.ExecutionDependencies, target));
            definition.AfterTargets.Select(Resolve).ToList().ForEach(x => Link(target.OrderDependencies, x));
            definition.BeforeTargets.Select(Resolve).ToList().ForEach(x => Link(x.OrderDependencies, target));
            definition.TriggersTargets.Select(Resolve).ToList().ForEach(x => { Link(x.TriggerDependencies, target); Link(target.Triggers, x); });
            definition.TriggeredByTargets.Select(Resolve).ToList().ForEach(x => { Link(target.TriggerDependencies, x); Link(x.Triggers, target); });
            definition.TriggeredByFailureOfTargets.Select(Resolve).ToList().ForEach(x => { Link(target.FailureDependencies, x); Link(x.FailureTriggers, target); });
        }

        foreach (var name in defaultTargetNames)
            ExecutionPlanner.Find(targets, name).IsDefault = true;
        return targets;
    }

    static TargetDefinition Define(Target target)
    {
        var definition = new TargetDefinition();
        target(definition);
        return definition;
    }

    static List<PropertyInfo> TargetProperties(Type type) =>
        type == typeof(BuildBase)
            ? []
            : [
                .. TargetProperties(type.BaseType!),
                .. type.GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                    .Where(x => x.PropertyType == typeof(Target))
                    .OrderBy(x => x.MetadataToken)
            ];
}
