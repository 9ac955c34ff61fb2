using System.Collections;
using System.Diagnostics;
using Serilog;
using TargetEngine.Output;
using TargetEngine.Parameters;

namespace TargetEngine;

/// <summary>Runs the plan in order; after a failure or abort only assured and failure-triggered targets still run.</summary>
internal sealed class BuildExecutor(IReadOnlyList<ExecutableTarget> plan, AbortSignal abort, BuildLog log)
{
    bool stopped;

    public void SkipRequested(IReadOnlyCollection<ExecutableTarget>? skipped)
    {
        // A bare --skip (how CI stages run one target each) keeps failure-triggered targets: skipping the
        // safety net has to be asked for by name.
        foreach (var target in plan.Where(x => skipped is not null && (skipped.Count == 0 ? !x.Invoked && !x.IsFailureTriggered : skipped.Contains(x))))
            MarkSkipped(target, "skipped via --skip");
    }

    public void ApplyStaticConditions()
    {
        foreach (var target in plan.Where(x => x.Status == TargetStatus.Scheduled))
        {
            if (Violated(target, target.Definition.StaticConditions) is { } text)
                MarkSkipped(target, $"OnlyWhen: {text}");
        }
    }

    public void ValidateRequirements(IReadOnlyList<ParameterMember> parameters)
    {
        var unmet = plan
            .Where(x => x.Status == TargetStatus.Scheduled)
            .SelectMany(target => target.Definition.Requirements.Where(x => !IsMet(Evaluate(target, x.Text, x.Value))).Select(x => Describe(target, x, parameters)))
            .ToArray();
        if (unmet.Length > 0)
            throw new InvalidUsageException(unmet);
    }

    public void Execute()
    {
        foreach (var target in plan)
        {
            if (stopped || abort.IsRequested)
                break;
            if (target.Status == TargetStatus.Scheduled)
                Run(target);
        }

        if (stopped || abort.IsRequested)
        {
            abort.Shield();
            foreach (var target in plan.Where(x => x.Status == TargetStatus.Scheduled && (x.Definition.IsAssured || x.IsFailureTriggered && (x.HasWatchedFailure || !x.Invoked))))
                Run(target);
        }

        foreach (var target in plan.Where(x => x.Status == TargetStatus.Scheduled))
            target.Status = TargetStatus.NotRun;
    }

    void Run(ExecutableTarget target)
    {
        string? skipReason;
        try
        {
            skipReason = SkipReason(target);
        }
        catch (Exception exception)
        {
            Fail(target, exception);
            return;
        }

        if (skipReason is not null)
            Skip(target, skipReason);
        else if (target.Definition.Actions.Count == 0)
            target.Status = TargetStatus.Collective;
        else
        {
            using var block = log.BeginTarget(target.Name);
            Invoke(target);
        }
    }

    void Invoke(ExecutableTarget target)
    {
        var token = abort.Token;
        var stopwatch = Stopwatch.StartNew();
        target.Status = TargetStatus.Running;
        try
        {
            foreach (var action in target.Definition.Actions)
                Task.Run(() => action(token), CancellationToken.None).GetAwaiter().GetResult();
            target.Status = TargetStatus.Succeeded;
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            target.Status = TargetStatus.Aborted;
        }
        catch (Exception exception)
        {
            Fail(target, exception);
        }
        finally
        {
            target.Duration = stopwatch.Elapsed;
        }
    }

    void Fail(ExecutableTarget target, Exception exception)
    {
        target.Status = TargetStatus.Failed;
        target.Failure = exception;
        target.Notes.Add(exception.Message.Split('\n')[0].Trim());
        Log.Error(exception, "{Reason}", exception.Message);
        stopped |= !target.Definition.ProceedsAfterFailure;
    }

    void MarkSkipped(ExecutableTarget target, string reason)
    {
        if (target.Status != TargetStatus.Scheduled)
            return;
        Skip(target, reason);

        bool NeededElsewhere(ExecutableTarget dependency) =>
            plan.Any(x => x.Status == TargetStatus.Scheduled && (x.ExecutionDependencies.Contains(dependency) || x.Triggers.Contains(dependency)));

        foreach (var dependency in target.ExecutionDependencies.Concat(target.Triggers).Where(x => !x.Invoked && !NeededElsewhere(x)).ToList())
            MarkSkipped(dependency, $"because {target.Name} is skipped");
    }

    static void Skip(ExecutableTarget target, string reason)
    {
        target.Status = TargetStatus.Skipped;
        target.Notes.Add(reason);
    }

    static string? SkipReason(ExecutableTarget target) =>
        target.IsFailureTriggered && !target.Invoked && !target.HasWatchedFailure ? $"no failure in {string.Join(", ", target.WatchedTargets)}"
        : Violated(target, target.Definition.DynamicConditions) is { } text ? $"OnlyWhen: {text}"
        : null;

    static string? Violated(ExecutableTarget target, IEnumerable<Condition> conditions) =>
        conditions.Where(x => !Evaluate(target, x.Text, x.IsMet)).Select(x => x.Text).ToList() is { Count: > 0 } texts ? string.Join(" && ", texts) : null;

    static T Evaluate<T>(ExecutableTarget target, string text, Func<T> evaluate)
    {
        try
        {
            return evaluate();
        }
        catch (Exception exception)
        {
            throw new InvalidUsageException($"Target '{target.Name}': '{text}' threw {exception.GetType().Name}: {exception.Message}");
        }
    }

    static bool IsMet(object? value) => value switch
    {
        null => false,
        string text => !string.IsNullOrWhiteSpace(text),
        bool flag => flag,
        ICollection collection => collection.Count > 0,
        _ => true,
    };

    static string Describe(ExecutableTarget target, Requirement requirement, IReadOnlyList<ParameterMember> parameters) =>
        parameters.FirstOrDefault(x => x.MemberName == requirement.Text) is { } parameter
            ? $"Target '{target.Name}' requires parameter --{parameter.DashedName}: pass --{parameter.DashedName} <value>, " +
              $"set {parameter.EnvironmentName} in the environment, or add \"{parameter.MemberName}\" to .nuke/parameters.json."
            : $"Target '{target.Name}' requires '{requirement.Text}'.";
}
