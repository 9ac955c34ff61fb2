using PgDeploy.Application;
using PgDeploy.Environments;
using PgDeploy.Tests.Application.Support;

namespace PgDeploy.Tests.Application;

/// <summary>
/// What a real shell hook (`/bin/sh -c`) sees: the application's variables and the deployment's facts, never the runner's
/// own credentials, wherever they were set.
/// </summary>
public sealed class HookEnvironmentTests : IDisposable
{
    readonly HookSandbox sandbox = new();

    [Theory]
    [InlineData(HookKind.Stop, "0.3")]
    [InlineData(HookKind.Start, "0.4")]
    [InlineData(HookKind.Revert, "0.3")]
    public async Task A_shell_hook_sees_the_deployments_facts_and_the_applications_secrets_but_not_the_runners_credentials(HookKind kind, string appVersion)
    {
        var runnerPassword = HookSandbox.Secret("runner-password");
        var applicationToken = HookSandbox.Secret("application-token");
        var dotEnv = sandbox.WriteDotEnv(".env",
            $"DATABASE_URL_CI_CLI=postgres://deployer:{runnerPassword}@db.internal/school",
            $"PGPASSWORD={runnerPassword}",
            $"SCHOOL_API_TOKEN={applicationToken}");
        var process = HookSandbox.ProcessEnvironment(
            ("DATABASE_URL_CI_CLI", $"Host=db.internal;Username=deployer;Password={runnerPassword}"),
            ("PGPASSWORD", runnerPassword),
            ("PGPASSFILE", "/home/deployer/.pgpass"),
            ("PGUSER", "deployer"));

        await sandbox.Runner(new ApplicationEnvironment(process, [dotEnv])).RunAsync(kind, new Hook { Command = "env > seen.env" }, HookSandbox.Facts, CancellationToken.None);

        var (text, seen) = sandbox.ReadEnv("seen.env");
        Assert.DoesNotContain(runnerPassword, text);
        Assert.DoesNotContain(seen.Keys, name => name is "DATABASE_URL_CI_CLI" or "PGPASSWORD" or "PGPASSFILE" or "PGUSER");
        Assert.Equal(applicationToken, seen["SCHOOL_API_TOKEN"]);
        Assert.Equal("ci", seen["DEPLOY_ENVIRONMENT"]);
        Assert.Equal("run-42", seen["DEPLOY_RUN_ID"]);
        Assert.Equal("school", seen["DEPLOY_DATABASE"]);
        Assert.Equal("0.3", seen["DEPLOY_FROM_VERSION"]);
        Assert.Equal("0.4", seen["DEPLOY_TO_VERSION"]);
        Assert.Equal(appVersion, seen["DEPLOY_APP_VERSION"]);
    }

    [Fact]
    public async Task A_later_env_file_overrides_an_earlier_one_the_process_environment_both_and_only_the_deployment_sets_its_facts()
    {
        var dotEnv = sandbox.WriteDotEnv(".env", "SETTING=from-dotenv", "OTHER=from-dotenv", "DEPLOY_APP_VERSION=9.9", "DEPLOY_FROM_VERSION=9.8");
        var localEnv = sandbox.WriteDotEnv("local.env", "SETTING=from-local-env", "OTHER=from-local-env");
        var process = HookSandbox.ProcessEnvironment(("OTHER", "from-process"));
        // A database without a recorded version: the stop hook takes down a version nobody knows.
        var facts = HookSandbox.Facts with { FromVersion = null };

        await sandbox.Runner(new ApplicationEnvironment(process, [dotEnv, localEnv])).RunAsync(HookKind.Stop, new Hook { Command = "env > seen.env" }, facts, CancellationToken.None);

        var (_, seen) = sandbox.ReadEnv("seen.env");
        Assert.Equal("from-local-env", seen["SETTING"]);
        Assert.Equal("from-process", seen["OTHER"]);
        Assert.Equal("0.4", seen["DEPLOY_TO_VERSION"]);
        Assert.False(seen.ContainsKey("DEPLOY_FROM_VERSION"), "a stale DEPLOY_FROM_VERSION from .env passed for a fact");
        Assert.False(seen.ContainsKey("DEPLOY_APP_VERSION"), "a stale DEPLOY_APP_VERSION from .env passed for a fact");
    }

    [Fact]
    public async Task A_shell_hook_inherits_nothing_of_the_runners_own_process_beyond_what_it_was_given()
    {
        var given = new Dictionary<string, string> { ["PATH"] = Environment.GetEnvironmentVariable("PATH")!, ["GIVEN"] = "yes" };
        Assert.Contains(HookSandbox.ProcessEnvironment().Keys, name => !given.ContainsKey(name));

        await sandbox.Runner(new ApplicationEnvironment(given, [])).RunAsync(HookKind.Start, new Hook { Command = "env > seen.env" }, HookSandbox.Facts, CancellationToken.None);

        // The shell sets PWD, SHLVL and _ itself.
        string[] expected = [.. given.Keys, "PWD", "SHLVL", "_", "OLDPWD", "DEPLOY_ENVIRONMENT", "DEPLOY_RUN_ID", "DEPLOY_FROM_VERSION", "DEPLOY_TO_VERSION", "DEPLOY_APP_VERSION", "DEPLOY_DATABASE"];
        Assert.Empty(sandbox.ReadEnv("seen.env").Variables.Keys.Except(expected));
    }

    public void Dispose() => sandbox.Dispose();
}
