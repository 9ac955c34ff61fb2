using System.Text.RegularExpressions;
using CliWrap;
using CliWrap.Buffered;
using PgDeploy.Environments;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Repository;

/// The checked-in CI workflow and environment files are code too: a typo in them surfaces on the night of
/// a deployment, so they are checked here.
public sealed partial class WorkflowAndEnvironmentTests
{
    static string Workflow => WorkflowFile("deploy.yml");
    static string FleetWorkflow => WorkflowFile("deploy-fleet.yml");
    static string WorkflowFile(string name) => Path.Combine(TestPaths.RepositoryRoot, ".github", "workflows", name);
    static string Environments => Path.Combine(TestPaths.RepositoryRoot, "environments");

    [Theory]
    [InlineData("deploy.yml")]
    [InlineData("deploy-fleet.yml")]
    public async Task The_deploy_workflows_pass_the_action_validator(string name)
    {
        var result = await ActionValidatorAsync(WorkflowFile(name));

        Assert.True(result.ExitCode == 0, $"action-validator rejected {name}:{Environment.NewLine}{result.StandardOutput}{result.StandardError}");
    }

    [Fact]
    public void Every_environment_the_fleet_workflow_offers_is_a_fleet_fenced_per_database()
    {
        var options = WorkflowEnvironmentOptions().Match(File.ReadAllText(FleetWorkflow));
        Assert.True(options.Success, "the fleet workflow's environment input lists no options");

        foreach (var name in options.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries))
        {
            var settings = DeploymentEnvironment.Load(Environments, name).Settings;
            Assert.NotNull(settings.Fleet);
            Assert.NotEmpty(settings.Fence.Roles);
            Assert.Equal(FenceScope.Database, settings.Fence.Scope);
        }
    }

    [Fact]
    public async Task The_action_validator_rejects_a_broken_workflow()
    {
        var broken = Path.Combine(Directory.CreateTempSubdirectory("pgdeploy-workflow-").FullName, "deploy.yml");
        try
        {
            await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(Workflow)).Replace("runs-on:", "runs_on:"));

            var result = await ActionValidatorAsync(broken);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("runs_on", result.StandardOutput + result.StandardError);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(broken)!, recursive: true);
        }
    }

    [Fact]
    public void Every_environment_the_workflow_offers_has_a_settings_file_that_loads()
    {
        var options = WorkflowEnvironmentOptions().Match(File.ReadAllText(Workflow));
        Assert.True(options.Success, "the workflow's environment input lists no options");
        var names = options.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries);

        Assert.Contains("prod", names);
        foreach (var name in names)
        {
            var environment = DeploymentEnvironment.Load(Environments, name);
            Assert.NotEmpty(environment.Settings.Fence.Roles);
            Assert.Equal($"DATABASE_URL_{name.ToUpperInvariant()}_CLI", environment.ConnectionVariable);
        }
        Assert.True(DeploymentEnvironment.Load(Environments, "prod").Settings.Production);
    }

    [Fact]
    public void Every_settings_file_loads_and_holds_no_connection_string()
    {
        foreach (var file in Directory.GetFiles(Environments, "*.json"))
        {
            EnvironmentSettings.Load(file);
            Assert.DoesNotMatch(@"postgres(ql)?://|Password\s*=", File.ReadAllText(file));
        }
    }

    static Task<BufferedCommandResult> ActionValidatorAsync(string file) =>
        Cli.Wrap("npx")
            .WithArguments(["--yes", "--package=@action-validator/cli@0.6.0", "--package=@action-validator/core@0.6.0", "action-validator", file])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();

    [GeneratedRegex(@"environment:\s*\n\s*description:[^\n]*\n\s*type: choice\s*\n\s*options: \[([^\]]*)\]")]
    private static partial Regex WorkflowEnvironmentOptions();
}
