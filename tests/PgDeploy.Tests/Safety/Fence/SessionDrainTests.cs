using Dapper;
using PgDeploy.Safety.Fence;
using PgDeploy.Tests.Fixtures;

namespace PgDeploy.Tests.Safety.Fence;

[Collection(PostgresCollection.Name)]
public sealed class SessionDrainTests(PostgresFixture postgres)
{
    /// A session the runner cannot end, made the way it happens: the runner holds pg_signal_backend, which
    /// ends any session except a superuser's. RaiseAsync refuses a superuser application role up front,
    /// so the drain is called directly, as if the role had become a superuser after the check.
    [Fact]
    public async Task Draining_fails_after_the_timeout_naming_each_session_it_could_not_end()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        var superApp = await scenario.CreateRoleAsync("superapp", "LOGIN SUPERUSER");
        // pg_read_all_stats lets the runner see the session's client and state, as it would in production if granted.
        await scenario.AsSuperuserAsync($"GRANT pg_read_all_stats TO {scenario.Runner}");
        await using var stubborn = await scenario.ConnectAsync(superApp, "report-builder");
        var client = await scenario.QueryAsSuperuserAsync<string?>(
            "SELECT CASE WHEN client_port = -1 THEN 'local socket' ELSE host(client_addr) END FROM pg_stat_activity WHERE pid = @pid",
            new { pid = stubborn.ProcessID });
        await using var runner = await scenario.ConnectAsync(scenario.Runner);

        var failure = await Assert.ThrowsAsync<DeploymentException>(() =>
            SessionDrain.DrainAsync(runner, scenario.Database, [superApp], TimeSpan.FromMilliseconds(500), CancellationToken.None));

        Assert.Equal(
            $"1 session(s) of the application's roles are still connected to database '{scenario.Database}' after 0.5 s: " +
            $"pid {stubborn.ProcessID} (role {superApp}, application 'report-builder', client {client}, state idle), which the runner may not end: " +
            "must be a superuser to terminate superuser process. The fence is up, so these roles cannot log in again, but these sessions can still write. " +
            "Stop the application or its connection pooler, or end the sessions as a superuser with SELECT pg_terminate_backend(<pid>), then run MaintenanceOn again; " +
            "./build.sh MaintenanceOff lifts the fence.",
            failure.Message);
        Assert.Equal(1, await stubborn.ExecuteScalarAsync<int>("SELECT 1"));
    }
}
