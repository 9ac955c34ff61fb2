using PgDeploy.Application;
using PgDeploy.Environments;
using PgDeploy.Tests.Application.Support;

namespace PgDeploy.Tests.Application;

/// <summary>
/// What answers is what was started: the health probe accepts the expected status only with the version the hook that
/// just ran brought up, so another process answering 200 on the same address does not pass.
/// </summary>
public sealed class HealthProbeTests
{
    static readonly ApplicationEnvironment Environment = new(HookSandbox.ProcessEnvironment(), []);

    static HealthCheck Check(AnsweringServer application) => new()
    {
        Url = $"{application.BaseUrl}/health",
        ExpectBody = "\"appVersion\":\"${DEPLOY_APP_VERSION}\"",
        Timeout = TimeSpan.FromSeconds(1.5),
    };

    [Fact]
    public async Task A_server_answering_200_as_another_version_is_not_the_application_the_start_hook_started()
    {
        await using var other = AnsweringServer.Start(200, """{"status":"ok","appVersion":"0.3"}""");

        var failure = await Assert.ThrowsAsync<DeploymentException>(() =>
            new HealthProbe(Environment, HookSandbox.Http).WaitAsync(Check(other), HookKind.Start, HookSandbox.Facts, CancellationToken.None));

        Assert.Contains("""last answered 200 OK without the expected text "appVersion":"0.4" (it said: {"status":"ok","appVersion":"0.3"})""", failure.Message);
        Assert.Contains("Another process may be answering on that address", failure.Message);
        Assert.NotEmpty(other.Requests);
    }

    [Theory]
    [InlineData(HookKind.Start, "0.4")]
    [InlineData(HookKind.Revert, "0.3")]
    public async Task The_application_answering_as_the_version_the_hook_brought_up_is_healthy(HookKind after, string version)
    {
        await using var application = AnsweringServer.Start(200, $$"""{"status":"ok","appVersion":"{{version}}"}""");

        var waited = await new HealthProbe(Environment, HookSandbox.Http).WaitAsync(Check(application), after, HookSandbox.Facts, CancellationToken.None);

        Assert.True(waited < TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public async Task After_a_revert_the_new_version_answering_is_not_healthy()
    {
        await using var stillNew = AnsweringServer.Start(200, """{"status":"ok","appVersion":"0.4"}""");

        var failure = await Assert.ThrowsAsync<DeploymentException>(() =>
            new HealthProbe(Environment, HookSandbox.Http).WaitAsync(Check(stillNew), HookKind.Revert, HookSandbox.Facts, CancellationToken.None));

        Assert.Contains("""without the expected text "appVersion":"0.3" """.TrimEnd(), failure.Message);
        Assert.Contains("The database is back at 0.3", failure.Message);
    }
}
