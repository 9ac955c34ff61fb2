using System.Reflection;
using TargetEngine.Parameters;

namespace TargetEngine;

internal static class TargetFactory
{
    public static IReadOnlyList<ExecutableTarget> Create(BuildBase build, IReadOnlyCollection<string> defaultTargetNames)
    {
        var declared = TargetProperties(build.GetType()).Select(x => (x.Name, Delegate: (Target)x.GetValue(build)!, Declarer: x.DeclaringType!.Name)).ToList();
        var named = declared.GroupBy(x => x.Name).Select(Single).ToList();
        var delegates = named.Select(x => x.Delegate).ToList();
        var targets = named.Select((x, i) => new ExecutableTarget(x.Name, Define(delegates[i]))).ToList();

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

    /// A build that implements a component's target implicitly (a public property of the same name) gets the same delegate twice.
    static (string Name, Target Delegate, string Declarer) Single(IGrouping<string, (string Name, Target Delegate, string Declarer)> declarations) =>
        declarations.Select(x => x.Delegate).Distinct().Count() == 1
            ? declarations.First()
            : throw new InvalidUsageException($"Target {declarations.Key} is declared by {string.Join(" and ", declarations.Select(x => x.Declarer))}: " +
                                              $"to override a component's target, implement it explicitly (Target {declarations.Last().Declarer}.{declarations.Key} => …).");

    /// The build's own targets in declaration order, base class first, then its components': an interface's target is read through
    /// the interface, so that it is the most specific implementation, an explicit one of the build's included.
    static List<PropertyInfo> TargetProperties(Type type) =>
        [.. ClassTargetProperties(type), .. ComponentParameter.Components(type).SelectMany(x => DeclaredTargets(x, BindingFlags.Public))];

    static List<PropertyInfo> ClassTargetProperties(Type type) =>
        type == typeof(BuildBase) ? [] : [.. ClassTargetProperties(type.BaseType!), .. DeclaredTargets(type, BindingFlags.Public | BindingFlags.NonPublic)];

    /// An explicit implementation (named "IComponent.Target") is reached through its interface's property.
    static IEnumerable<PropertyInfo> DeclaredTargets(Type type, BindingFlags visibility) =>
        type.GetProperties(BindingFlags.Instance | BindingFlags.DeclaredOnly | visibility)
            .Where(x => x.PropertyType == typeof(Target) && !x.Name.Contains('.'))
            .OrderBy(x => x.MetadataToken);
}
