using System.Runtime.CompilerServices;

namespace TargetEngine;

/// <summary>A target is a property of type <see cref="Target"/>; its name is the property name.</summary>
/// <example><c>Target Migrate => _ => _.DependsOn(Backup).Executes(() => …);</c></example>
public delegate ITargetDefinition Target(ITargetDefinition _);

/// <summary>Fluent definition of a target, mirroring NUKE's <c>ITargetDefinition</c>.</summary>
public interface ITargetDefinition
{
    /// <summary>Text shown under the target in <c>--help</c>.</summary>
    ITargetDefinition Description(string description);

    /// <summary>Adds an action; actions run in the order they were added.</summary>
    ITargetDefinition Executes(Action action);

    /// <inheritdoc cref="Executes(Action)"/>
    ITargetDefinition Executes(Func<Task> action);

    /// <summary>Adds an action that receives a token cancelled on Ctrl-C, SIGTERM or <see cref="BuildBase.RequestAbort"/>.</summary>
    ITargetDefinition Executes(Func<CancellationToken, Task> action);

    /// <summary>Execution dependency: the given targets join the plan and run before this one.</summary>
    ITargetDefinition DependsOn(params Target[] targets);

    /// <summary>Reverse execution dependency: this target joins the plan of the given targets and runs before them.</summary>
    ITargetDefinition DependentFor(params Target[] targets);

    /// <summary>Ordering only: runs after the given targets when both are in the plan.</summary>
    ITargetDefinition After(params Target[] targets);

    /// <summary>Ordering only: runs before the given targets when both are in the plan.</summary>
    ITargetDefinition Before(params Target[] targets);

    /// <summary>Trigger dependency: the given targets join the plan and run after this one.</summary>
    ITargetDefinition Triggers(params Target[] targets);

    /// <summary>Trigger dependency: this target joins the plan whenever one of the given targets is in it, and runs after it.</summary>
    ITargetDefinition TriggeredBy(params Target[] targets);

    /// <summary>
    /// Joins the plan whenever one of the given targets is in it and runs after them, but only if one of them failed or was aborted,
    /// even when the build is failing or aborted. Otherwise it is skipped. Invoked by name, it runs like any other target.
    /// </summary>
    ITargetDefinition TriggeredByFailureOf(params Target[] targets);

    /// <summary>Skips the target (and dependencies only it needs) when false; evaluated for the whole plan before any target runs.</summary>
    ITargetDefinition OnlyWhenStatic(Func<bool> condition, [CallerArgumentExpression(nameof(condition))] string? text = null);

    /// <summary>Skips the target when false; evaluated right before the target runs, even when it was invoked.</summary>
    ITargetDefinition OnlyWhenDynamic(Func<bool> condition, [CallerArgumentExpression(nameof(condition))] string? text = null);

    /// <summary>Fails the build before any target runs when the value is null, empty or false.</summary>
    ITargetDefinition Requires(Func<object?> value, [CallerArgumentExpression(nameof(value))] string? text = null);

    /// <summary>When this target fails, the build goes on; it still ends failed.</summary>
    ITargetDefinition ProceedAfterFailure();

    /// <summary>Runs even after another target failed or the build was aborted, if it is in the plan.</summary>
    ITargetDefinition AssuredAfterFailure();

    /// <summary>Hidden from <c>--help</c>, and from the summary unless it ran.</summary>
    ITargetDefinition Unlisted();
}
