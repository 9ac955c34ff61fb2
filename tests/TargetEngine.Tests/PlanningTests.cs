namespace TargetEngine.Tests;

public sealed class PlanningTests : IDisposable
{
    readonly Sandbox sandbox = new();

    class Build : BuildBase
    {
        Target Clean => _ => _.Before(Compile).Executes(() => { });
        Target Restore => _ => _.Executes(() => { });
        Target Compile => _ => _.DependsOn(Restore).Executes(() => { });
        Target Test => _ => _.DependsOn(Compile).Triggers(Report).Executes(() => { });
        Target Pack => _ => _.DependsOn(Compile).After(Test).Executes(() => { });
        Target Report => _ => _.Executes(() => { });
        Target Notify => _ => _.TriggeredBy(Pack).Executes(() => { });
        Target Lint => _ => _.DependentFor(Compile).Executes(() => { });
    }

    class CycleBuild : BuildBase
    {
        Target A => _ => _.DependsOn(B);
        Target B => _ => _.After(C);
        Target C => _ => _.TriggeredBy(A);
    }

    class SelfBuild : BuildBase
    {
        Target Loop => _ => _.After(Loop);
    }

    [Fact]
    public void Dependencies_ordering_and_triggers_shape_the_plan()
    {
        var result = sandbox.Run<Build>("Test", "Pack");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["Restore", "Lint", "Compile", "Test", "Pack", "Report", "Notify"], result.Names());
        Assert.All(result.Targets, x => Assert.Equal(TargetStatus.Succeeded, x.Status));
    }

    [Fact]
    public void Before_orders_only_when_both_are_scheduled()
    {
        Assert.Equal(["Restore", "Lint", "Compile"], sandbox.Run<Build>("Compile").Names());
        Assert.Equal(["Clean", "Restore", "Lint", "Compile"], sandbox.Run<Build>("Compile", "Clean").Names());
    }

    [Fact]
    public void Ties_follow_declaration_order_not_invocation_order()
    {
        Assert.Equal(["Clean", "Restore", "Report"], sandbox.Run<Build>("Report", "Restore", "Clean").Names());
        Assert.Equal(["Clean", "Restore", "Report"], sandbox.Run<Build>("--target", "Report+Clean", "Restore").Names());
    }

    [Fact]
    public void Target_names_ignore_case_and_dashes()
    {
        Assert.Equal(["Restore"], sandbox.Run<Build>("re-STORE").Names());
    }

    [Fact]
    public void Cycle_is_rejected_naming_the_cycle()
    {
        var result = sandbox.Run<CycleBuild>("A");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Circular dependency: A -> B -> C -> A", sandbox.Output);
        Assert.Empty(result.Targets);
    }

    [Fact]
    public void Self_dependency_is_rejected()
    {
        Assert.Equal(2, sandbox.Run<SelfBuild>("Loop").ExitCode);
        Assert.Contains("Target 'Loop' cannot depend on itself.", sandbox.Output);
    }

    [Fact]
    public void Unknown_target_is_rejected_with_the_available_targets()
    {
        var result = sandbox.Run<Build>("Compil");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Target 'Compil' does not exist. Did you mean 'Compile'? Available targets: Clean, Restore, Compile, Test, Pack, Report, Notify, Lint.", sandbox.Output);
    }

    [Fact]
    public void Without_targets_or_defaults_help_is_shown()
    {
        var result = sandbox.Run<Build>();

        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Targets);
        Assert.StartsWith("Targets (with their direct dependencies):", sandbox.Output);
    }

    public void Dispose() => sandbox.Dispose();
}
