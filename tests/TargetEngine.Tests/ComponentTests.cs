namespace TargetEngine.Tests;

/// <summary>NUKE's build components: targets and parameters declared on interfaces, which a build gets by implementing them.</summary>
public sealed class ComponentTests : IDisposable
{
    readonly Sandbox sandbox = new();

    internal static readonly List<string> Ran = [];

    public interface ICompile : IBuild
    {
        [Parameter("Configuration to compile")]
        string Configuration => TryGetValue(() => Configuration) ?? "Debug";

        [Parameter("Warnings fail the compilation")]
        bool Strict => TryGetValue(() => Strict);

        Target Restore => _ => _.Executes(() => Ran.Add(nameof(Restore)));

        Target Compile => _ => _
            .Description("Compiles the solution")
            .DependsOn(Restore)
            .Executes(() =>
            {
                Ran.Add($"{nameof(Compile)} {Configuration}{(Strict ? " strict" : "")}");
                ReportSummary($"compiled {Configuration}");
            });

        /// Shared state of the component: one per run, whichever target asks first.
        CompileState State => GetOrCreate(() => new CompileState());

        [OnBuildFinished]
        void WriteCompileLog(BuildResult result) => Ran.Add($"finished {result.Targets.Count(x => x.Status == TargetStatus.Succeeded)} succeeded");
    }

    public sealed class CompileState
    {
        public int Uses { get; set; }
    }

    public interface IPack : ICompile
    {
        Target Pack => _ => _
            .DependsOn(Compile)
            .Executes(() => Ran.Add($"{nameof(Pack)} {++State.Uses}"));
    }

    internal class AppBuild : BuildBase, IPack
    {
        Target Lint => _ => _
            .Description("The application's own target")
            .Executes(() => Ran.Add(nameof(Lint)));

        Target Release => _ => _
            .DependsOn(Lint, From<IPack>().Pack)
            .Executes(() => Ran.Add($"{nameof(Release)} {++From<ICompile>().State.Uses}"));
    }

    internal sealed class OverridingBuild : AppBuild, ICompile
    {
        Target ICompile.Compile => _ => _
            .DependsOn(From<ICompile>().Restore)
            .Executes(() => Ran.Add("custom compile"));
    }

    internal sealed class ClashingBuild : BuildBase, ICompile
    {
        /// Not public: it does not implement ICompile.Compile, so the build would have two targets of that name.
        Target Compile => _ => _.Executes(() => { });
    }

    internal sealed class ClashingParameterBuild : BuildBase, ICompile
    {
        [Parameter] readonly string Configuration = "Release";

        Target Show => _ => _.Executes(() => Ran.Add(Configuration));
    }

    [Fact]
    public void Help_lists_the_builds_own_targets_then_the_components_with_their_parameters_and_defaults()
    {
        Assert.Equal(0, sandbox.Run<AppBuild>("--help").ExitCode);

        var targets = sandbox.Output[..sandbox.Output.IndexOf("Parameters:", StringComparison.Ordinal)];
        Assert.Equal(["Lint", "Release", "Pack", "Restore", "Compile"], targets.Split('\n').Where(x => x.StartsWith("  ", StringComparison.Ordinal) && !x.StartsWith("    ", StringComparison.Ordinal)).Select(x => x.Trim().Split(' ')[0]));
        Assert.Contains("Release              -> Lint, Pack", sandbox.Output);
        Assert.Contains("Compile              -> Restore", sandbox.Output);
        Assert.Contains("Compiles the solution", sandbox.Output);
        Assert.Matches(@"--configuration\s+Configuration to compile\. Default: Debug\.", sandbox.Output);
        Assert.Matches(@"--strict\s+Warnings fail the compilation\.", sandbox.Output);
    }

    [Fact]
    public void Plan_orders_the_builds_targets_and_the_components_together()
    {
        Assert.Equal(0, sandbox.Run<AppBuild>("Release", "--plan").ExitCode);

        var steps = sandbox.Output.Split('\n').Select(x => System.Text.RegularExpressions.Regex.Match(x, @"^\s+\d+\. (\w+)")).Where(x => x.Success).Select(x => x.Groups[1].Value);
        Assert.Equal(["Lint", "Restore", "Compile", "Pack", "Release"], steps);
        Assert.Empty(Ran);
    }

    [Fact]
    public void Component_parameters_take_values_like_the_builds_own_and_component_state_is_one_per_run()
    {
        sandbox.Environment["STRICT"] = "true";

        var result = sandbox.Run<AppBuild>("Release", "--configuration", "Release");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["Lint", "Restore", "Compile Release strict", "Pack 1", "Release 2", "finished 5 succeeded"], Ran);
        Assert.Contains("compiled Release", result.Target("Compile").Notes);
    }

    public interface IHazServer : IBuild
    {
        [Parameter("Server to deploy to")]
        string Server => TryGetValue(() => Server) ?? throw new InvalidOperationException("no server configured");
    }

    internal sealed class ThrowingDefaultBuild : BuildBase, IHazServer
    {
        Target Show => _ => _.Executes(() => Ran.Add(From<IHazServer>().Server));
    }

    [Fact]
    public void A_component_parameter_whose_default_throws_is_refused_as_the_builds_mistake()
    {
        Assert.Equal(2, sandbox.Run<ThrowingDefaultBuild>("Show", "--server", "db1").ExitCode);
        Assert.Contains("Parameter IHazServer.Server has no default: its getter threw InvalidOperationException (no server configured)", sandbox.Output);
        Assert.Empty(Ran);
    }

    [Fact]
    public void An_explicit_implementation_overrides_a_components_target_and_its_dependents_run_it()
    {
        var result = sandbox.Run<OverridingBuild>("Pack");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["Restore", "custom compile", "Pack 1", "finished 3 succeeded"], Ran);
    }

    [Fact]
    public void A_target_or_parameter_declared_twice_is_refused_with_the_fix()
    {
        Assert.Equal(2, sandbox.Run<ClashingBuild>("Compile").ExitCode);
        Assert.Contains("Target Compile is declared by ClashingBuild and ICompile", sandbox.Output);
        Assert.Contains("implement it explicitly (Target ICompile.Compile => …)", sandbox.Output);

        Assert.Equal(2, sandbox.Run<ClashingParameterBuild>("Show").ExitCode);
        Assert.Contains("Parameter --configuration is declared twice, by ClashingParameterBuild.Configuration and ICompile.Configuration", sandbox.Output);
        Assert.Empty(Ran);
    }

    public void Dispose()
    {
        Ran.Clear();
        sandbox.Dispose();
    }
}
