using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using PgDeploy.Deployments;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// An application's existing build adds the database upgrade by implementing IPostgresUpgrade (tests/AppBuild): its own
/// targets and the upgrade's are one graph, and the step it overrides (Restart) runs in place of the component's.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class ComponentBuildTests(PostgresFixture postgres)
{
    private static readonly string[] Upgrade = ["Prerequisites", "Precompute", "MaintenanceOn", "Backup", "Migrate", "PostProcess", "Verify", "Restart", "DumpClone", "Deploy"];

    [Fact]
    public async Task An_application_build_with_the_upgrade_component_lists_plans_and_deploys_with_its_own_restart()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        var app = scenario.Launch with { Project = BuildProgram.AppBuild };

        var help = await scenario.RunAsync(app, "--help");

        help.AssertExitCode(0);
        Assert.Contains("  Compile\n    Compile the application", help.Output);
        Assert.Matches(@"  Release \(default\)\s+-> Compile, Deploy", help.Output);
        Assert.Contains("Restart the application's containers, then lift the fence", help.Output);
        Assert.DoesNotContain("Lift the fence, start the application on the new version", help.Output);
        Assert.All(Upgrade, target => Assert.Contains($"\n  {target}", help.Output));
        Assert.Contains("--target-env", help.Output);
        Assert.Contains("--version", help.Output);

        var plan = await scenario.RunAsync(app, "--plan", "--version", "0.1");

        plan.AssertExitCode(0);
        var steps = Regex.Matches(plan.Output, @"^\s+\d+\. (\w+)", RegexOptions.Multiline).Select(match => match.Groups[1].Value).ToList();
        Assert.Equal(["Compile", .. Upgrade[..^1], "Rollback", "DeployFleet", "Deploy", "Release"], steps);
        Assert.Contains("DeployFleet    OnlyWhen: Upgrade.IsFleetRun", plan.Output);

        var release = await scenario.RunAsync(app, "--version", "0.1");

        release.AssertExitCode(0);
        Assert.Contains("app: compiled", release.Output);
        Assert.Contains("app: restarting the containers", release.Output);
        Assert.Contains("app: released", release.Output);
        var journal = scenario.Records.Journal;
        Assert.Equal(DeploymentState.Completed, journal.State);
        Assert.Equal("0.1", journal.TargetVersion);
        Assert.Contains(journal.Events, entry => entry.Target == "Restart");
        Assert.NotNull(journal.FenceLiftedAt);
        Assert.True(await scenario.App.CanLogInAsync(), "The overriding Restart must still lift the fence through the deployment.");
        Assert.Equal(3, await scenario.Database.ScalarAsync<long>("SELECT count(*) FROM students"));
    }
}
