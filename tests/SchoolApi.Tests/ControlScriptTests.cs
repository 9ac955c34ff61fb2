using System.Net.Http.Json;
using System.Text.Json;
using PgDeploy.Tests.Fixtures;
using SchoolApi.Tests.Support;

namespace SchoolApi.Tests;

/// samples/SchoolApi/school-api.sh as the `local` environment's stop and start hooks run it.
[Collection(PostgresCollection.Name)]
public sealed class ControlScriptTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Start_status_and_stop_are_idempotent_and_stop_leaves_no_process()
    {
        await using var role = await AppRole.CreateAsync(await SchoolDatabases.AtAsync(postgres, "0.4"), "0.4");
        using var script = new ControlScript(role.ConnectionString);

        Assert.Equal(3, (await script.RunAsync("status")).ExitCode);
        AssertSucceeded(await script.RunAsync("stop"), "not running");

        AssertSucceeded(await script.RunAsync("start 0.4"), "the 0.4 build is running");
        var pid = int.Parse(await File.ReadAllTextAsync(script.PidFile));
        Assert.True(ControlScript.IsRunning(pid));
        using (var http = new HttpClient())
        {
            var health = await http.GetFromJsonAsync<JsonElement>($"{script.Url}/health");
            Assert.Equal("0.4", health.GetProperty("database").GetString());
        }

        AssertSucceeded(await script.RunAsync("start 0.4"), "already running");
        Assert.Equal(pid, int.Parse(await File.ReadAllTextAsync(script.PidFile)));
        var (otherCode, otherOutput) = await script.RunAsync("start 0.3");
        Assert.NotEqual(0, otherCode);
        Assert.Contains("stop it before starting 0.3", otherOutput);
        AssertSucceeded(await script.RunAsync("status"), "healthy");

        AssertSucceeded(await script.RunAsync("stop"), $"stopped (pid {pid})");
        Assert.False(ControlScript.IsRunning(pid), $"pid {pid} still runs after stop");
        Assert.False(File.Exists(script.PidFile));
        AssertSucceeded(await script.RunAsync("stop"), "not running");
        Assert.Equal(3, (await script.RunAsync("status")).ExitCode);
    }

    [Fact]
    public async Task Start_fails_with_the_apis_refusal_and_exit_code_when_the_database_is_at_another_version()
    {
        await using var role = await AppRole.CreateAsync(await SchoolDatabases.AtAsync(postgres, "0.4"), "0.4");
        using var script = new ControlScript(role.ConnectionString);

        var (exitCode, output) = await script.RunAsync("start 0.3");

        Assert.Equal(3, exitCode);
        Assert.Contains("The database is at 0.4 but this is the 0.3 build of the school API", output);
        Assert.False(File.Exists(script.PidFile));
        Assert.Equal(3, (await script.RunAsync("status")).ExitCode);
    }

    [Fact]
    public async Task Start_without_SCHOOL_DB_or_a_version_fails_and_starts_nothing()
    {
        using var script = new ControlScript(schoolDb: "");

        Assert.Contains("SCHOOL_DB is not set", (await script.RunAsync("start 0.4")).Output);
        Assert.NotEqual(0, (await script.RunAsync("start")).ExitCode);
        Assert.False(File.Exists(script.PidFile));
    }

    static void AssertSucceeded((int ExitCode, string Output) result, string expected)
    {
        Assert.True(result.ExitCode == 0, $"exit code {result.ExitCode}:\n{result.Output}");
        Assert.Contains(expected, result.Output);
    }
}
