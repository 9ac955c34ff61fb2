using PgDeploy.Application;
using PgDeploy.Environments;
using PgDeploy.Tests.Application.Support;

namespace PgDeploy.Tests.Application;

/// <summary>
/// A secret of the application (from .env) and the runner's connection string never appear in what the deployment logs or
/// in its errors, even when a hook prints them or another process answers with them.
/// </summary>
public sealed class SecretMaskingTests : IDisposable
{
    readonly CapturedLog log = new();
    readonly HookSandbox sandbox = new();
    readonly string token = HookSandbox.Secret("application-token");
    readonly string runnerUrl = $"postgres://deployer:{HookSandbox.Secret("runner-password")}@db.internal/school";
    readonly ApplicationEnvironment environment;

    public SecretMaskingTests() =>
        environment = new ApplicationEnvironment(HookSandbox.ProcessEnvironment(("DATABASE_URL_CI_CLI", runnerUrl)), [sandbox.WriteDotEnv(".env", $"APP_TOKEN={token}")]);

    [Fact]
    public async Task A_failing_command_hook_that_prints_the_secret_is_reported_and_logged_masked()
    {
        var hook = new Hook { Command = "echo \"starting with $APP_TOKEN\"; echo \"refused $APP_TOKEN\" >&2; exit 3" };

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => sandbox.Runner(environment).RunAsync(HookKind.Start, hook, HookSandbox.Facts, CancellationToken.None));

        Assert.Contains("The start hook failed with exit code 3: refused ***", failure.Message);
        Assert.Contains("starting with ***", log.Text);
        AssertNowhere(failure);
    }

    [Fact]
    public async Task A_failing_http_hook_sends_the_secret_but_neither_logs_nor_reports_it()
    {
        await using var application = AnsweringServer.Start(500, $"cannot start with {token}");
        var hook = new Hook { Url = $"{application.BaseUrl}/start?version=${{DEPLOY_APP_VERSION}}", Body = "{ \"token\": \"${APP_TOKEN}\" }" };

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => sandbox.Runner(environment).RunAsync(HookKind.Start, hook, HookSandbox.Facts, CancellationToken.None));

        var request = Assert.Single(application.Requests);
        Assert.StartsWith("POST /start?version=0.4 ", request);
        Assert.Contains(token, request);
        Assert.Contains("The start hook answered 500", failure.Message);
        AssertNowhere(failure);
    }

    [Fact]
    public async Task A_health_answer_that_echoes_secrets_is_quoted_masked()
    {
        await using var other = AnsweringServer.Start(503, $$"""{"status":"down","token":"{{token}}","db":"{{runnerUrl}}"}""");

        var failure = await Assert.ThrowsAsync<DeploymentException>(() => new HealthProbe(environment, HookSandbox.Http).WaitAsync(
            new HealthCheck { Url = $"{other.BaseUrl}/health", Timeout = TimeSpan.FromSeconds(1) }, HookKind.Start, HookSandbox.Facts, CancellationToken.None));

        Assert.Contains("""last answered 503 ServiceUnavailable (it said: {"status":"down","token":"***","db":"***"})""", failure.Message);
        AssertNowhere(failure);
    }

    [Fact]
    public async Task A_smoke_check_that_cannot_connect_reports_and_logs_its_url_as_written()
    {
        string closed;
        await using (var gone = AnsweringServer.Start(200, ""))
            closed = gone.BaseUrl;
        var check = new SmokeCheck { Name = "login", Url = $"{closed}/login?token=${{APP_TOKEN}}" };

        var result = Assert.Single(await new SmokeChecks(environment, HookSandbox.Http).RunAsync([check], HookKind.Start, HookSandbox.Facts, CancellationToken.None));

        Assert.False(result.Passed);
        Assert.Contains("/login?token=${APP_TOKEN} failed", result.Detail);
        Assert.DoesNotContain(token, result.Detail);
        AssertNowhere();
    }

    void AssertNowhere(Exception? failure = null)
    {
        foreach (var secret in new[] { token, runnerUrl })
        {
            Assert.DoesNotContain(secret, failure?.ToString() ?? "");
            Assert.DoesNotContain(secret, log.Text);
        }
    }

    public void Dispose()
    {
        sandbox.Dispose();
        log.Dispose();
    }
}
