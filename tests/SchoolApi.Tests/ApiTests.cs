using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PgDeploy.Tests.Fixtures;
using SchoolApi.Tests.Support;

namespace SchoolApi.Tests;

/// One build of the API running against the sample school at the same version, for the tests of that version.
public abstract class ApiTests(PostgresFixture postgres, string version) : IAsyncLifetime
{
    RunningApi? running;

    private protected RunningApi Running => running!;

    public async Task InitializeAsync() => running = await RunningApi.StartAsync(postgres, version);

    public async Task DisposeAsync()
    {
        if (running is not null)
            await running.DisposeAsync();
    }

    [Fact]
    public async Task Health_reports_the_build_and_the_database_version()
    {
        using var response = await Running.Http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(version, health.GetProperty("appVersion").GetString());
        Assert.Equal(version, health.GetProperty("database").GetString());
    }
}
