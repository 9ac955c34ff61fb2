using System.Linq.Expressions;
using System.Reflection;
using TargetEngine.Parameters;

namespace TargetEngine;

/// <summary>
/// Base class of a build: targets are its <see cref="Target"/> properties, parameters its <see cref="ParameterAttribute"/> members,
/// and those of the component interfaces it implements (see <see cref="IBuild"/>).
/// </summary>
public abstract class BuildBase : IBuild
{
    /// <summary>Runs the build with the process's command line and environment.</summary>
    /// <param name="defaultTargets">Targets to run when none is named on the command line; with none, help is shown.</param>
    /// <returns>
    /// The exit code:
    /// <list type="bullet">
    /// <item><description>0: the build succeeded.</description></item>
    /// <item><description>1: a target failed, or targets remained not run.</description></item>
    /// <item><description>2: invalid usage or configuration found before any target ran: unknown target or parameter, bad parameter value,
    /// circular dependency, unmet requirement, unknown key in a parameters file.</description></item>
    /// <item><description>130: aborted by Ctrl-C or SIGTERM.</description></item>
    /// </list>
    /// A value the build assigns to <see cref="ExitCode"/> wins.
    /// </returns>
    protected static int Execute<T>(params Expression<Func<T, Target>>[] defaultTargets) where T : BuildBase, new() =>
        BuildRunner.Run(new RunSettings { Args = Environment.GetCommandLineArgs()[1..] }, defaultTargets).ExitCode;

    internal IReadOnlyList<ExecutableTarget> ExecutionPlan { get; set; } = [];
    internal AbortSignal Abort { get; } = new();

    /// <summary>The nearest directory above the working directory that contains <c>.nuke/</c>, or <c>--root</c>.</summary>
    public AbsolutePath RootDirectory { get; internal set; } = null!;

    /// <summary><c>RootDirectory/.nuke/temp</c>, created at start.</summary>
    public AbsolutePath TemporaryDirectory => RootDirectory / ".nuke" / "temp";

    public BuildHost Host { get; internal set; }
    public bool IsLocalBuild => Host == BuildHost.Terminal;
    public bool IsServerBuild => !IsLocalBuild;

    /// <summary>A terminal with a real stdin that is not a server build, unless <see cref="RunSettings.Interactive"/> says otherwise.</summary>
    public bool IsInteractive { get; internal set; }

    /// <summary>The console is an interactive ANSI terminal, not a CI log or a file, and the verbosity shows Information.</summary>
    public bool CanShowProgressBars { get; internal set; }

    /// <summary>
    /// A progress bar for long work, or null when the console cannot show one (see <see cref="CanShowProgressBars"/>) or one already
    /// shows; then the work's log lines are all the console gets.
    /// </summary>
    /// <param name="formatAmount">How an amount reads, e.g. "12.3 MB" or "1,234 rows".</param>
    /// <param name="totalIsEstimate">The work may end before or after <paramref name="total"/>.</param>
    public ProgressBar? StartProgressBar(string description, long? total, Func<long, string> formatAmount, bool totalIsEstimate = false) =>
        CanShowProgressBars ? ProgressBar.TryStart(description, total, totalIsEstimate, formatAmount) : null;

    public IReadOnlyList<string> InvokedTargets => [.. ExecutionPlan.Where(x => x.Invoked).Select(x => x.Name)];
    public IReadOnlyList<string> SucceededTargets => TargetsWith(TargetStatus.Succeeded);
    public IReadOnlyList<string> FailedTargets => TargetsWith(TargetStatus.Failed);

    /// <summary>Targets that this process will still run: in the plan, not skipped, not started yet.</summary>
    public IReadOnlyList<string> ScheduledTargets => TargetsWith(TargetStatus.Scheduled);

    /// <summary>
    /// Cancelled when the run is aborted. While assured and failure-triggered targets run after a failure or an abort,
    /// it is a fresh token that is never cancelled.
    /// </summary>
    public CancellationToken AbortToken => Abort.Token;

    /// <summary>Overrides the computed exit code.</summary>
    public int? ExitCode { get; set; }

    /// <summary>Does what Ctrl-C and SIGTERM do: cancels the running target, then runs assured and failure-triggered targets.</summary>
    public void RequestAbort() => Abort.Request();

    /// <summary>Adds a short note to the running target's row in the summary.</summary>
    public void ReportSummary(string note) =>
        (ExecutionPlan.FirstOrDefault(x => x.Status == TargetStatus.Running) ?? throw new InvalidOperationException("ReportSummary needs a running target."))
        .Notes.Add(note);

    public T? TryGetValue<T>(Expression<Func<T>> parameter) =>
        componentParameters.TryGetValue(ComponentParameter.Key(parameter), out var value) ? (T?)value : default;

    public T GetOrCreate<T>(Func<T> create) where T : class => (T)shared.GetOrAdd(typeof(T), _ => create());

    public T From<T>() where T : IBuild => this is T component ? component : throw new InvalidUsageException($"{GetType().Name} does not implement {typeof(T).Name}.");

    /// <summary>Called after all targets, before the summary is printed; then the components' <see cref="OnBuildFinishedAttribute"/> methods.</summary>
    protected virtual void OnBuildFinished(BuildResult result) { }

    internal void NotifyBuildFinished(BuildResult result)
    {
        OnBuildFinished(result);
        foreach (var handler in ComponentParameter.Components(GetType()).SelectMany(FinishedHandlers))
            handler.Invoke(this, [result]);
    }

    static IEnumerable<MethodInfo> FinishedHandlers(Type component) =>
        component.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .Where(x => x.IsDefined(typeof(OnBuildFinishedAttribute)))
            .OrderBy(x => x.MetadataToken);

    internal void SetComponentParameter(MemberInfo member, object? value) => componentParameters[ComponentParameter.Key(member)] = value;

    readonly Dictionary<(Type, string), object?> componentParameters = [];
    readonly System.Collections.Concurrent.ConcurrentDictionary<Type, object> shared = new();

    IReadOnlyList<string> TargetsWith(TargetStatus status) => [.. ExecutionPlan.Where(x => x.Status == status).Select(x => x.Name)];
}
