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
    static string Workflow => Path.Combine(TestPaths.RepositoryRoot, ".github", "workflows", "deploy.yml");
    static string Environments => Path.Combine(TestPaths.RepositoryRoot, "environments");

    [Fact]
    public async Task The_deploy_workflow_passes_the_action_validator()
    {
        var result = await ActionValidatorAsync(Workflow);

        Assert.True(result.ExitCode == 0, $"action-validator rejected {Workflow}:{Environment.NewLine}{result.StandardOutput}{result.StandardError}");
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
