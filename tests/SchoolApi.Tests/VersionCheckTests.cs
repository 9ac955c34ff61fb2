using Npgsql;
using PgDeploy.Tests.Fixtures;
using SchoolApi.Tests.Support;

namespace SchoolApi.Tests;

/// A build refuses to start against a database at another version: why the deployment guide says to revert the code
/// after a rollback. The refusal is one line and an exit code the control script passes on.
[Collection(PostgresCollection.Name)]
public sealed class VersionCheckTests(PostgresFixture postgres)
{
    [Theory]
    [InlineData("0.3", "0.4")]
    [InlineData("0.4", "0.3")]
    public async Task A_build_refuses_a_database_at_another_version_with_exit_code_3(string build, string database)
    {
        await using var role = await AppRole.CreateAsync(await SchoolDatabases.AtAsync(postgres, database), database);

        var (exitCode, output) = await ApiProcess.RunUntilExitAsync(build, role.ConnectionString);

        Assert.Equal(3, exitCode);
        Assert.Equal(
            $"The database is at {database} but this is the {build} build of the school API: deploy the matching version or revert the code (see the deployment guide).",
            output);
    }

    [Fact]
    public async Task A_database_without_deployment_history_is_refused_with_exit_code_3()
    {
        var empty = await postgres.CreateDatabaseAsync();

        var (exitCode, output) = await ApiProcess.RunUntilExitAsync("0.4", empty);

        Assert.Equal(3, exitCode);
        Assert.StartsWith("The database has no deployment history", output);
    }

    [Fact]
    public async Task An_unreachable_database_is_refused_with_exit_code_4_and_without_the_password()
    {
        var nothingListens = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = ApiProcess.FreePort(), Database = "school", Username = "school_app", Password = "not-for-logs-1234", Timeout = 5,
        };

        var (exitCode, output) = await ApiProcess.RunUntilExitAsync("0.4", nothingListens.ConnectionString);

        Assert.Equal(4, exitCode);
        Assert.StartsWith($"Cannot reach the school database school on 127.0.0.1:{nothingListens.Port} as school_app", output);
        Assert.DoesNotContain("not-for-logs-1234", output);
    }

    [Fact]
    public async Task A_rejected_password_is_refused_with_exit_code_4_and_not_printed()
    {
        var wrongPassword = new NpgsqlConnectionStringBuilder(await SchoolDatabases.AtAsync(postgres, "0.4")) { Password = "not-for-logs-5678" };

        var (exitCode, output) = await ApiProcess.RunUntilExitAsync("0.4", wrongPassword.ConnectionString);

        Assert.Equal(4, exitCode);
        Assert.Contains("password authentication failed", output);
        Assert.DoesNotContain("not-for-logs-5678", output);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0.5")]
    public async Task A_build_that_is_neither_03_nor_04_is_refused_with_exit_code_2(string version)
    {
        var (exitCode, output) = await ApiProcess.RunUntilExitAsync(version, await SchoolDatabases.AtAsync(postgres, "0.4"));

        Assert.Equal(2, exitCode);
        Assert.Contains("--app-version 0.3 or 0.4", output);
    }
}
