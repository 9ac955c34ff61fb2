using System.Collections;
using System.Linq.Expressions;
using Serilog;
using Spectre.Console;
using TargetEngine.Cli;
using TargetEngine.Output;
using TargetEngine.Parameters;

namespace TargetEngine;

/// <summary>The engine's testable entry point; <c>BuildBase.Execute</c> is a thin wrapper over it.</summary>
public static class BuildRunner
{
    /// <summary>Runs a build with the given settings; the exit codes are those documented on <c>BuildBase.Execute</c>.</summary>
    public static BuildResult Run<T>(RunSettings settings, params Expression<Func<T, Target>>[] defaultTargets) where T : BuildBase, new()
    {
        var environment = settings.Environment ?? ProcessEnvironment();
        var output = TextWriter.Synchronized(settings.Output ?? Console.Out);
        var arguments = Arguments.Parse(settings.Args);
        var options = BuildOptions.Parse(arguments, environment, Path.GetFullPath(settings.WorkingDirectory ?? Environment.CurrentDirectory));
        var temporaryDirectory = options.Root is null ? null : options.Root / ".nuke" / "temp";
        var logDirectory = options.LogDirectory ?? temporaryDirectory;
        foreach (var directory in new[] { temporaryDirectory, logDirectory }.OfType<AbsolutePath>())
            Directory.CreateDirectory(directory);

        using var log = BuildLog.Start(output, toConsole: settings.Output is null, options.Verbosity, options.Host, logDirectory);
        var build = new T
        {
            RootDirectory = options.Root!,
            Host = options.Host,
            IsInteractive = settings.Interactive ?? (!Console.IsInputRedirected && options.Host == BuildHost.Terminal),
            CanShowProgressBars = settings.Output is null && !Console.IsOutputRedirected && options.Host == BuildHost.Terminal
                && options.Verbosity >= Verbosity.Normal && AnsiConsole.Profile.Capabilities is { Interactive: true, Ansi: true },
        };
        using var signals = build.Abort.ListenToSignals();
        var run = new BuildRun(build, arguments, options, environment, output, log, Ansi: settings.Output is null && !Console.IsOutputRedirected);
        try
        {
            return options.Errors.Count > 0 ? throw new InvalidUsageException([.. options.Errors]) : run.Execute(defaultTargets.Select(MemberName).ToList());
        }
        catch (InvalidUsageException exception)
        {
            foreach (var error in exception.Errors)
                Log.Error("{Reason}", error);
            return new(2, Results(build.ExecutionPlan));
        }
    }

    sealed record BuildRun(
        BuildBase Build,
        Arguments Arguments,
        BuildOptions Options,
        IReadOnlyDictionary<string, string?> Environment,
        TextWriter Output,
        BuildLog BuildLog,
        bool Ansi)
    {
        public BuildResult Execute(IReadOnlyCollection<string> defaultTargets)
        {
            var targets = TargetFactory.Create(Build, defaultTargets);
            ExecutionPlanner.Validate(targets);
            var parameters = ParameterMember.Discover(Build);
            SchemaWriter.Write(Build.RootDirectory / ".nuke" / "build.schema.json", parameters, targets);
            ParameterFiles.EnsureDefault(Build.RootDirectory);
            if (Options.Help)
                return ShowHelp(targets, parameters);

            ParameterResolver.RejectUnknownArguments(Arguments, parameters);
            var files = ParameterFiles.Load(Build.RootDirectory, Options.Profiles, parameters);
            new ParameterResolver(Arguments, Environment, files, Build.RootDirectory).Inject(Build, parameters);

            var invoked = Options.Targets.Length > 0 ? Options.Targets.Select(x => ExecutionPlanner.Find(targets, x)).ToList() : targets.Where(x => x.IsDefault).ToList();
            if (invoked.Count == 0)
                return ShowHelp(targets, parameters);
            invoked.ForEach(x => x.Invoked = true);
            var plan = ExecutionPlanner.Plan(targets, invoked);
            plan.ToList().ForEach(x => x.Status = TargetStatus.Scheduled);
            Build.ExecutionPlan = plan;

            var executor = new BuildExecutor(plan, Build.Abort, BuildLog);
            executor.SkipRequested(Options.Skip?.Select(x => ExecutionPlanner.Find(targets, x)).ToList());
            if (Options.Plan)
                return ShowPlan(plan);
            executor.ApplyStaticConditions();
            executor.ValidateRequirements(parameters);
            executor.Execute();
            return Finish(plan);
        }

        BuildResult ShowHelp(IReadOnlyList<ExecutableTarget> targets, IReadOnlyList<ParameterMember> parameters)
        {
            Output.Write(Help.Text(targets, parameters));
            return new(0, []);
        }

        BuildResult ShowPlan(IReadOnlyList<ExecutableTarget> plan)
        {
            var file = Build.TemporaryDirectory / "execution-plan.html";
            File.WriteAllText(file, PlanWriter.Html(plan));
            Output.Write($"{PlanWriter.Text(plan)}\nPlan graph written to {file}\n");
            return new(0, Results(plan));
        }

        BuildResult Finish(IReadOnlyList<ExecutableTarget> plan)
        {
            var finishFailed = false;
            int ExitCode() => Build.ExitCode ?? (Build.Abort.IsRequested ? 130
                : finishFailed || plan.Any(x => x.Status is TargetStatus.Failed or TargetStatus.Aborted or TargetStatus.NotRun) ? 1
                : 0);

            try
            {
                Build.NotifyBuildFinished(new(ExitCode(), Results(plan)));
            }
            catch (Exception exception)
            {
                Log.Error(exception, "OnBuildFinished failed: {Reason}", exception.Message);
                finishFailed = true;
            }

            var outcome = Summary.Outcome(ExitCode(), plan, DateTime.Now);
            Summary.Write(Output, Ansi, plan, BuildLog.Problems, outcome);
            if (Build.Host == BuildHost.GitHubActions && Environment.GetValueOrDefault("GITHUB_STEP_SUMMARY") is { Length: > 0 } stepSummary)
                File.AppendAllText(stepSummary, Summary.Markdown(plan, outcome));
            return new(ExitCode(), Results(plan));
        }
    }

    static IReadOnlyList<TargetResult> Results(IEnumerable<ExecutableTarget> plan) => [.. plan.Select(x => x.ToResult())];

    static string MemberName<T>(Expression<Func<T, Target>> target) =>
        target.Body is MemberExpression member ? member.Member.Name : throw new ArgumentException($"Default target '{target}' must be a property access like x => x.Deploy.");

    static Dictionary<string, string?> ProcessEnvironment() =>
        System.Environment.GetEnvironmentVariables().Cast<DictionaryEntry>().ToDictionary(x => (string)x.Key, x => (string?)x.Value);
}
