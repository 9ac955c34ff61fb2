using PgDeploy.Application;
using PgDeploy.Environments;
using PgDeploy.Tests.Application.Support;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Application;

/// <summary>
/// A hook or check that refers to the runner's own connection (DATABASE_URL_*_CLI, PG*) is refused before anything is
/// sent or run, with a message that names the variable and never its value.
/// </summary>
public sealed class RunnerCredentialTests : IDisposable
{
    readonly HookSandbox sandbox = new();
    readonly string runnerUrl = $"postgres://deployer:{HookSandbox.Secret("runner-password")}@db.internal/school";

    ApplicationEnvironment Environment => new(HookSandbox.ProcessEnvironment(("DATABASE_URL_X_CLI", runnerUrl), ("PGPASSWORD", runnerUrl)), []);

    [Fact]
    public async Task A_smoke_check_that_would_send_the_runners_connection_string_is_refused_and_sends_nothing()
    {
        await using var application = AnsweringServer.Start(200, "welcome");
        var check = new SmokeCheck { Name = "leaky login", Method = "POST", Url = $"{application.BaseUrl}/login", Body = "{ \"db\": \"${DATABASE_URL_X_CLI}\" }" };

        var refusal = await Assert.ThrowsAsync<DeploymentException>(() =>
            new SmokeChecks(Environment, HookSandbox.Http).RunAsync([check], HookKind.Start, HookSandbox.Facts, CancellationToken.None));

        Assert.Contains("The smoke check 'leaky login' refers to ${DATABASE_URL_X_CLI}", refusal.Message);
        Assert.DoesNotContain(runnerUrl, refusal.Message);
        Assert.Empty(application.Requests);
    }

    [Fact]
    public async Task An_http_hook_that_would_send_the_runners_connection_string_is_refused_and_sends_nothing()
    {
        await using var application = AnsweringServer.Start(200, "stopped");
        var hook = new Hook { Url = $"{application.BaseUrl}/maintenance", Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer ${DATABASE_URL_X_CLI}" } };

        var refusal = await Assert.ThrowsAsync<DeploymentException>(() => sandbox.Runner(Environment).RunAsync(HookKind.Stop, hook, HookSandbox.Facts, CancellationToken.None));

        Assert.Contains("The stop hook refers to ${DATABASE_URL_X_CLI}", refusal.Message);
        Assert.DoesNotContain(runnerUrl, refusal.Message);
        Assert.Empty(application.Requests);
    }

    [Fact]
    public async Task A_command_hook_that_refers_to_a_libpq_password_is_refused_and_not_run()
    {
        var hook = new Hook { Command = "touch ran; psql \"postgres://deployer:$PGPASSWORD@db.internal/school\"" };

        var refusal = await Assert.ThrowsAsync<DeploymentException>(() => sandbox.Runner(Environment).RunAsync(HookKind.Start, hook, HookSandbox.Facts, CancellationToken.None));

        Assert.Contains("The start hook refers to ${PGPASSWORD}", refusal.Message);
        Assert.DoesNotContain(runnerUrl, refusal.Message);
        Assert.False(File.Exists(Path.Combine(sandbox.Directory, "ran")));
    }

    [Fact]
    public void Settings_whose_health_check_refers_to_the_runners_connection_are_refused_before_anything_runs()
    {
        var settings = new EnvironmentSettings { Health = new HealthCheck { Url = "http://127.0.0.1:5080/health?db=${DATABASE_URL_PROD_CLI}" } };

        var refusal = Assert.Throws<DeploymentException>(() => ApplicationEnvironment.CheckReferences(settings));

        Assert.Contains("The health check refers to ${DATABASE_URL_PROD_CLI}", refusal.Message);
    }

    [Fact]
    public void Every_checked_in_environment_passes_the_check()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "environments"), "*.json"))
            ApplicationEnvironment.CheckReferences(EnvironmentSettings.Load(file));
    }

    public void Dispose() => sandbox.Dispose();
}
