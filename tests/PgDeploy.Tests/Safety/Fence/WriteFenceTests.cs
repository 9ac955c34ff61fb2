using Dapper;
using Npgsql;
using PgDeploy.Environments;
using PgDeploy.Postgres;
using PgDeploy.Safety.Fence;
using PgDeploy.Tests.Fixtures;

namespace PgDeploy.Tests.Safety.Fence;

[Collection(PostgresCollection.Name)]
public sealed class WriteFenceTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Raising_rejects_new_app_logins_ends_app_sessions_and_makes_new_sessions_read_only_by_default()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        var bystander = await scenario.CreateRoleAsync("bystander", "LOGIN");
        await scenario.AsSuperuserAsync($"GRANT SELECT, INSERT ON grades TO {bystander}");
        await using var appSession = await scenario.ConnectAsync(scenario.App, "grading-service");
        await appSession.ExecuteAsync("INSERT INTO grades VALUES (1, 90)");

        var raised = await scenario.Fence([scenario.App]).RaiseAsync("run-1", CancellationToken.None);

        Assert.Equal([new FencedRole(scenario.App, CouldLogInBefore: true)], raised.Roles);
        Assert.Equal([appSession.ProcessID], raised.EndedSessions.Select(session => session.Pid));
        Assert.Contains($"{scenario.App} cannot log in", raised.Describe());
        var rejected = await Assert.ThrowsAsync<PostgresException>(() => scenario.ConnectAsync(scenario.App));
        Assert.Equal(PostgresErrorCodes.InvalidAuthorizationSpecification, rejected.SqlState);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => appSession.ExecuteAsync("INSERT INTO grades VALUES (1, 100)"));

        // A role the fence does not cover still gets in, but its new session is read-only by default.
        await using var bystanderSession = await scenario.ConnectAsync(bystander);
        var readOnly = await Assert.ThrowsAsync<PostgresException>(() => bystanderSession.ExecuteAsync("INSERT INTO grades VALUES (2, 50)"));
        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, readOnly.SqlState);
        // Only a guard rail: a client that asks for a read-write transaction gets one.
        await using (var readWrite = await bystanderSession.BeginTransactionAsync())
        {
            await bystanderSession.ExecuteAsync("SET TRANSACTION READ WRITE; INSERT INTO grades VALUES (2, 50)", transaction: readWrite);
        }

        // The runner's own sessions opt out at startup, as UpgradeSession does, and keep writing.
        await using var runnerSession = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(scenario.ConnectionStringAs(scenario.Runner))
        {
            Options = "-c default_transaction_read_only=off",
        }.ConnectionString);
        await runnerSession.ExecuteAsync("CREATE TABLE upgraded (id int); INSERT INTO upgraded VALUES (1)");
    }

    [Fact]
    public async Task Lifting_lets_the_app_role_log_in_and_write_again()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        var fence = scenario.Fence([scenario.App]);
        await fence.RaiseAsync("run-1", CancellationToken.None);

        var lifted = await fence.LiftAsync(CancellationToken.None);

        Assert.Equal([scenario.App], lifted.ReEnabledRoles);
        Assert.Contains($"{scenario.App} can log in again", lifted.Describe());
        await using var appSession = await scenario.ConnectAsync(scenario.App);
        Assert.Equal(1, await appSession.ExecuteAsync("INSERT INTO grades VALUES (1, 90)"));
        Assert.False((await fence.StatusAsync(CancellationToken.None)).IsUp);
    }

    [Fact]
    public async Task Raising_twice_and_lifting_twice_are_safe()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        var fence = scenario.Fence([scenario.App]);

        var first = await fence.RaiseAsync("run-1", CancellationToken.None);
        var second = await fence.RaiseAsync("run-2", CancellationToken.None);

        Assert.False(first.WasAlreadyUp);
        Assert.True(second.WasAlreadyUp);
        // The second raise finds the role NOLOGIN, but it is still the fence's to give back.
        Assert.Equal(first.Record, second.Record with { DisabledRoles = first.Record.DisabledRoles });
        Assert.Equal([scenario.App], second.Record.DisabledRoles);
        Assert.Contains($"{scenario.App} cannot log in", second.Describe());

        var lifted = await fence.LiftAsync(CancellationToken.None);
        var liftedAgain = await fence.LiftAsync(CancellationToken.None);

        Assert.Equal([scenario.App], lifted.ReEnabledRoles);
        Assert.Null(liftedAgain.Record);
        Assert.Equal($"No write fence is up on database '{scenario.Database}'; nothing was changed.", liftedAgain.Describe());
        Assert.True(await scenario.CanLogInAsync(scenario.App));
    }

    [Fact]
    public async Task Lifting_gives_back_only_what_the_fence_took()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        var dormant = await scenario.CreateRoleAsync("dormant", "NOLOGIN");
        await scenario.AsSuperuserAsync(
            $"""
            COMMENT ON DATABASE "{scenario.Database}" IS 'School records; owner: it-ops';
            ALTER DATABASE "{scenario.Database}" SET default_transaction_read_only = off;
            """);
        var fence = scenario.Fence([scenario.App, dormant]);

        var raised = await fence.RaiseAsync("run-1", CancellationToken.None);
        var lifted = await fence.LiftAsync(CancellationToken.None);

        Assert.Equal([new FencedRole(scenario.App, true), new FencedRole(dormant, false)], raised.Roles);
        Assert.Contains($"{dormant} was NOLOGIN already and stays so", raised.Describe());
        Assert.Equal([scenario.App], lifted.ReEnabledRoles);
        Assert.True(await scenario.CanLogInAsync(scenario.App));
        Assert.False(await scenario.CanLogInAsync(dormant));
        Assert.Equal("School records; owner: it-ops", await scenario.QueryAsSuperuserAsync<string>(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"));
        Assert.Equal(["default_transaction_read_only=off"], await scenario.QueryAsSuperuserAsync<string[]>(
            "SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole = 0"));
    }

    [Fact]
    public async Task The_fence_outlives_the_runner_and_status_shows_it_to_a_new_process()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        await scenario.Fence([scenario.App]).RaiseAsync("run-crashed", CancellationToken.None);
        // The runner dies: every one of its sessions goes away with it.
        await scenario.AsSuperuserAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{scenario.Runner}'");

        var status = await scenario.Fence([scenario.App]).StatusAsync(CancellationToken.None);

        Assert.True(status.IsUp);
        Assert.Equal("run-crashed", status.Record!.RunId);
        Assert.Equal([scenario.App], status.Record.DisabledRoles);
        Assert.InRange(status.Record.RaisedAt, before, DateTimeOffset.UtcNow.AddSeconds(5));
        Assert.Contains($"raised by run run-crashed: {scenario.App} cannot log in", status.Describe());
        await Assert.ThrowsAsync<PostgresException>(() => scenario.ConnectAsync(scenario.App));
    }

    [Fact]
    public async Task Status_says_so_when_no_fence_is_up()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);

        var status = await scenario.Fence([scenario.App]).StatusAsync(CancellationToken.None);

        Assert.False(status.IsUp);
        Assert.Equal($"No write fence is up on database '{scenario.Database}'.", status.Describe());
    }

    [Fact]
    public async Task An_app_role_that_owns_the_database_is_fenced_like_any_other()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        // The runner acts as the owner through membership, as it would when the application owns its database.
        await scenario.AsSuperuserAsync($"""GRANT {scenario.App} TO {scenario.Runner}; ALTER DATABASE "{scenario.Database}" OWNER TO {scenario.App}""");
        var fence = scenario.Fence([scenario.App]);
        Assert.Empty((await fence.CheckAsync(CancellationToken.None)).Problems);

        await fence.RaiseAsync("run-1", CancellationToken.None);

        var rejected = await Assert.ThrowsAsync<PostgresException>(() => scenario.ConnectAsync(scenario.App));
        Assert.Equal(PostgresErrorCodes.InvalidAuthorizationSpecification, rejected.SqlState);
    }

    [Fact]
    public async Task Raising_refuses_configurations_where_the_fence_cannot_hold_and_changes_nothing()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        var weakRunner = await scenario.CreateRoleAsync("weak", "LOGIN");
        var superApp = await scenario.CreateRoleAsync("superapp", "LOGIN SUPERUSER");
        var reporting = await scenario.CreateRoleAsync("reporting", "LOGIN");
        await scenario.AsSuperuserAsync($"GRANT {scenario.App} TO {reporting}");
        var fence = scenario.Fence([scenario.App, "no_such_role", superApp], runner: weakRunner);

        var check = await fence.CheckAsync(CancellationToken.None);
        var refused = await Assert.ThrowsAsync<DeploymentException>(() => fence.RaiseAsync("run-1", CancellationToken.None));

        Assert.Equal(
        [
            $"the runner '{weakRunner}' does not own database '{scenario.Database}' (its owner is '{scenario.Runner}'), and only the owner may set the " +
            $"database's default_transaction_read_only and its comment, where the fence keeps its record: ALTER DATABASE ... OWNER TO {weakRunner}, or GRANT {scenario.Runner} TO {weakRunner}",
            $"the runner '{weakRunner}' may not make '{scenario.App}' NOLOGIN: ALTER ROLE {weakRunner} CREATEROLE (on PostgreSQL 16 and later also GRANT {scenario.App} TO {weakRunner} WITH ADMIN OPTION)",
            $"the runner '{weakRunner}' may not end the sessions of '{scenario.App}': GRANT pg_signal_backend TO {weakRunner}",
            "role 'no_such_role' in fence.roles does not exist on this server: correct the name",
            $"'{superApp}' is a superuser, and only a superuser may make it NOLOGIN or end its sessions: run the application as an ordinary role (recommended), or the runner as a superuser",
            $"'{reporting}' can log in and is a member of '{scenario.App}', so it could still write with the application's privileges: add it to fence.roles, or REVOKE {scenario.App} FROM {reporting}",
        ], check.Problems);
        Assert.StartsWith($"The write fence cannot hold on database '{scenario.Database}': the runner '{weakRunner}' does not own", refused.Message);
        Assert.EndsWith("Nothing was changed; fix this and run again.", refused.Message);
        Assert.True(await scenario.CanLogInAsync(scenario.App));
        Assert.False((await scenario.Fence([scenario.App]).StatusAsync(CancellationToken.None)).IsUp);
    }

    [Fact]
    public async Task Checking_refuses_a_runner_that_is_an_app_role_and_an_empty_role_list()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        await scenario.AsSuperuserAsync($"""ALTER DATABASE "{scenario.Database}" OWNER TO {scenario.App}""");

        var selfFencing = await scenario.Fence([scenario.App], runner: scenario.App).CheckAsync(CancellationToken.None);
        var empty = await scenario.Fence([]).CheckAsync(CancellationToken.None);

        Assert.Equal(
            [$"the runner connects as '{scenario.App}', one of the application's roles, and NOLOGIN would lock it out before it could lift the fence: connect the runner as a role of its own"],
            selfFencing.Problems);
        Assert.Contains(empty.Problems, problem => problem.StartsWith("fence.roles lists no application role", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Lifting_as_a_role_without_the_rights_leaves_the_fence_up_and_says_who_can_lift_it()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        var helpdesk = await scenario.CreateRoleAsync("helpdesk", "LOGIN");
        await scenario.Fence([scenario.App]).RaiseAsync("run-1", CancellationToken.None);

        var refused = await Assert.ThrowsAsync<DeploymentException>(() => scenario.Fence([scenario.App], runner: helpdesk).LiftAsync(CancellationToken.None));

        Assert.StartsWith($"The write fence on database '{scenario.Database}' cannot be lifted by '{helpdesk}': permission denied", refused.Message);
        Assert.True((await scenario.Fence([scenario.App]).StatusAsync(CancellationToken.None)).IsUp);
        Assert.False(await scenario.CanLogInAsync(scenario.App));
    }

    [Fact]
    public async Task A_damaged_fence_record_stops_the_runner_with_the_manual_fix()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        await scenario.AsSuperuserAsync($$"""COMMENT ON DATABASE "{{scenario.Database}}" IS 'pgdeploy write fence, lift with ./build.sh MaintenanceOff: {"runId":'""");

        var damaged = await Assert.ThrowsAsync<DeploymentException>(() => scenario.Fence([scenario.App]).LiftAsync(CancellationToken.None));

        Assert.StartsWith($"The write fence record in the comment of database '{scenario.Database}' is damaged", damaged.Message);
        Assert.Contains("ALTER ROLE ... LOGIN", damaged.Message);
    }

    /// Why the fence record is the database comment: on PostgreSQL 15 a runner that owns the database
    /// but is not a superuser may not keep a custom setting on it without a superuser's GRANT SET ON PARAMETER.
    [Fact]
    public async Task An_owner_that_is_not_a_superuser_may_not_keep_a_custom_setting_on_its_database()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        await using var runner = await scenario.ConnectAsync(scenario.Runner);

        var denied = await Assert.ThrowsAsync<PostgresException>(() => runner.ExecuteAsync($"""ALTER DATABASE "{scenario.Database}" SET pgdeploy.fence = 'up'"""));
        await runner.ExecuteAsync($"""COMMENT ON DATABASE "{scenario.Database}" IS 'up'""");

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
    }

    [Fact]
    public async Task A_per_database_fence_keeps_a_shared_role_out_of_this_database_only_and_lifting_gives_its_grant_back()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        var other = new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync()).Database!;
        // The tenants' usual setup: CONNECT is each role's own grant, not PUBLIC's.
        foreach (var database in new[] { scenario.Database, other })
        {
            await scenario.AsSuperuserAsync($"REVOKE CONNECT ON DATABASE {DatabaseAdmin.QuoteIdentifier(database)} FROM PUBLIC; GRANT CONNECT ON DATABASE {DatabaseAdmin.QuoteIdentifier(database)} TO {scenario.App}");
        }

        var aclBefore = await AclAsync(scenario);
        await using var appSession = await scenario.ConnectAsync(scenario.App, "tenant-service");
        var fence = new WriteFence(scenario.ConnectionStringAs(scenario.Runner), new FenceSettings { Roles = [scenario.App], Scope = FenceScope.Database, SessionDrainTimeout = TimeSpan.FromSeconds(10) });

        var raised = await fence.RaiseAsync("run-1", CancellationToken.None);

        Assert.Contains($"{scenario.App} cannot connect to it", raised.Describe());
        Assert.Equal([appSession.ProcessID], raised.EndedSessions.Select(session => session.Pid));
        var rejected = await Assert.ThrowsAsync<PostgresException>(() => scenario.ConnectAsync(scenario.App));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, rejected.SqlState);
        Assert.True(await scenario.CanLogInAsync(scenario.App), "A per-database fence leaves the role's LOGIN alone.");
        await using (var elsewhere = new NpgsqlConnection(scenario.ConnectionStringAs(scenario.App, database: other)))
        {
            await elsewhere.OpenAsync();
            Assert.Equal(1, await elsewhere.ExecuteScalarAsync<int>("SELECT 1"));
        }

        Assert.Contains($"{scenario.App} cannot connect to it", (await fence.StatusAsync(CancellationToken.None)).Describe());

        var lifted = await fence.LiftAsync(CancellationToken.None);

        Assert.Contains($"{scenario.App} can connect to it again", lifted.Describe());
        Assert.Equal(aclBefore, await AclAsync(scenario));
        await using var back = await scenario.ConnectAsync(scenario.App);
        Assert.Equal(1, await back.ExecuteAsync("INSERT INTO grades VALUES (1, 90)"));
    }

    [Fact]
    public async Task A_per_database_fence_that_PUBLIC_would_get_around_is_refused_before_anything_changes()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        var fence = new WriteFence(scenario.ConnectionStringAs(scenario.Runner), new FenceSettings { Roles = [scenario.App], Scope = FenceScope.Database });

        var check = await fence.CheckAsync(CancellationToken.None);
        var refused = await Assert.ThrowsAsync<DeploymentException>(() => fence.RaiseAsync("run-1", CancellationToken.None));

        Assert.Contains($"'{scenario.App}' could still connect to database '{scenario.Database}' after REVOKE CONNECT: PUBLIC", Assert.Single(check.Problems));
        Assert.Contains($"REVOKE CONNECT ON DATABASE {scenario.Database} FROM PUBLIC", refused.Message);
        Assert.Null(await AclAsync(scenario));
        Assert.False((await fence.StatusAsync(CancellationToken.None)).IsUp);
        await using var app = await scenario.ConnectAsync(scenario.App);
    }

    [Fact]
    public async Task A_per_database_fence_of_a_role_and_the_role_it_connects_through_holds_and_a_grant_option_is_refused_before_anything_changes()
    {
        await using var scenario = await FenceScenario.CreateAsync(postgres);
        // The reporting role connects both by its own grant and through the application role it belongs to: it holds only once
        // both grants are revoked, whichever role comes first.
        var reporting = await scenario.CreateRoleAsync("reporting", "LOGIN");
        var database = DatabaseAdmin.QuoteIdentifier(scenario.Database);
        await scenario.AsSuperuserAsync(
            $"REVOKE CONNECT ON DATABASE {database} FROM PUBLIC; GRANT {scenario.App} TO {reporting}; " +
            $"GRANT CONNECT ON DATABASE {database} TO {reporting}; GRANT CONNECT ON DATABASE {database} TO {scenario.App}");
        var aclBefore = await AclAsync(scenario);
        var fence = new WriteFence(scenario.ConnectionStringAs(scenario.Runner), new FenceSettings { Roles = [reporting, scenario.App], Scope = FenceScope.Database });

        Assert.Empty((await fence.CheckAsync(CancellationToken.None)).Problems);
        var raised = await fence.RaiseAsync("run-1", CancellationToken.None);

        Assert.Equal([reporting, scenario.App], raised.Record.RevokedConnect);
        await Assert.ThrowsAsync<PostgresException>(() => scenario.ConnectAsync(reporting));
        await fence.LiftAsync(CancellationToken.None);
        Assert.Equal(aclBefore, await AclAsync(scenario));

        // A grant option: the revoke would cascade to whatever the role granted on, which lifting could not give back.
        await scenario.AsSuperuserAsync($"GRANT CONNECT ON DATABASE {database} TO {scenario.App} WITH GRANT OPTION");
        var withOption = await AclAsync(scenario);
        var appOnly = new WriteFence(scenario.ConnectionStringAs(scenario.Runner), new FenceSettings { Roles = [scenario.App], Scope = FenceScope.Database });

        var check = await appOnly.CheckAsync(CancellationToken.None);
        var refused = await Assert.ThrowsAsync<DeploymentException>(() => appOnly.RaiseAsync("run-2", CancellationToken.None));

        Assert.Contains(check.Problems, problem => problem.StartsWith($"'{scenario.App}' holds CONNECT on database '{scenario.Database}' WITH GRANT OPTION", StringComparison.Ordinal));
        Assert.Contains("Nothing was changed", refused.Message);
        Assert.Equal(withOption, await AclAsync(scenario));
        Assert.False((await appOnly.StatusAsync(CancellationToken.None)).IsUp);
        await using var app = await scenario.ConnectAsync(scenario.App);
    }

    static Task<string?> AclAsync(FenceScenario scenario) =>
        scenario.QueryAsSuperuserAsync<string?>("SELECT datacl::text FROM pg_database WHERE datname = @database", new { database = scenario.Database });
}
