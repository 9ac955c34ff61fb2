using System.Linq.Expressions;

namespace TargetEngine;

/// <summary>
/// What a build offers its components, as NUKE's <c>INukeBuild</c> does. A component is an interface deriving from this one
/// whose default-implemented <see cref="Target"/> properties are targets and whose <see cref="ParameterAttribute"/> properties
/// are parameters of every build that implements it:
/// <code>
/// interface ICompile : IBuild
/// {
///     [Parameter("Configuration to build")] string Configuration => TryGetValue(() => Configuration) ?? "Debug";
///     Target Compile => _ => _.Executes(() => …);
/// }
/// class Build : BuildBase, ICompile { Target Pack => _ => _.DependsOn(From&lt;ICompile&gt;().Compile); }
/// </code>
/// A build overrides a component's target with an explicit implementation (<c>Target ICompile.Compile => …</c>); the
/// other targets that depend on it then depend on the override.
/// </summary>
public interface IBuild
{
    /// <summary>The nearest directory above the working directory that contains <c>.nuke/</c>, or <c>--root</c>.</summary>
    AbsolutePath RootDirectory { get; }

    /// <summary><c>RootDirectory/.nuke/temp</c>, created at start.</summary>
    AbsolutePath TemporaryDirectory { get; }

    BuildHost Host { get; }

    /// <summary>A terminal with a real stdin that is not a server build, unless <see cref="RunSettings.Interactive"/> says otherwise.</summary>
    bool IsInteractive { get; }

    /// <inheritdoc cref="BuildBase.StartProgressBar"/>
    ProgressBar? StartProgressBar(string description, long? total, Func<long, string> formatAmount, bool totalIsEstimate = false);

    IReadOnlyList<string> InvokedTargets { get; }

    /// <summary>Targets that this process will still run: in the plan, not skipped, not started yet.</summary>
    IReadOnlyList<string> ScheduledTargets { get; }

    /// <summary>Overrides the computed exit code.</summary>
    int? ExitCode { get; set; }

    /// <summary>Adds a short note to the running target's row in the summary.</summary>
    void ReportSummary(string note);

    /// <summary>
    /// The value given to a component's parameter (command line, environment, parameters files), or default when none was:
    /// <c>[Parameter] string TargetEnv => TryGetValue(() => TargetEnv) ?? "local";</c>. Components have no fields to receive it.
    /// </summary>
    T? TryGetValue<T>(Expression<Func<T>> parameter);

    /// <summary>One instance of <typeparamref name="T"/> per build run, created on first use: where a component keeps its state.</summary>
    T GetOrCreate<T>(Func<T> create) where T : class;

    /// <summary>This build as one of its components, to name a component's target: <c>DependsOn(From&lt;ICompile&gt;().Compile)</c>.</summary>
    T From<T>() where T : IBuild;
}

/// <summary>
/// Marks a component's method <c>void M(BuildResult result)</c> to be called after all targets, after the build's own
/// <c>OnBuildFinished</c> and before the summary is printed.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OnBuildFinishedAttribute : Attribute;
