using PgDeploy.Postgres;

namespace PgDeploy.Tests.Postgres;

public sealed class PostgresBinariesTests
{
    [Fact]
    public async Task Finds_the_highest_installed_server_with_all_its_programs_in_one_directory()
    {
        var server = await PostgresBinaries.FindServerAsync();

        Assert.All(new[] { server.InitDb, server.PgCtl, server.Postgres }, program => Assert.True(File.Exists(program), program));
        var debianMajors = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Where(directory => File.Exists(Path.Combine(directory, "bin", "postgres")))
                .Select(directory => int.Parse(Path.GetFileName(directory)))
            : [];
        Assert.True(server.MajorVersion >= 10);
        Assert.True(server.MajorVersion >= debianMajors.DefaultIfEmpty().Max());
    }

    [Fact]
    public async Task Names_the_package_to_install_when_the_wanted_server_major_is_missing()
    {
        var failure = await Assert.ThrowsAsync<PostgresSetupException>(() => PostgresBinaries.FindServerAsync(majorVersion: 999));

        Assert.Contains("/usr/lib/postgresql/*/bin", failure.Message);
        Assert.Contains("apt-get install postgresql-999", failure.Message);
    }

    [Fact]
    public async Task Finds_client_tools_at_least_as_new_as_the_server()
    {
        var server = await PostgresBinaries.FindServerAsync();

        foreach (var name in new[] { "pg_dump", "pg_restore", "psql" })
        {
            var tool = await PostgresBinaries.FindClientToolAsync(name, minimumMajorVersion: server.MajorVersion);
            Assert.Equal(name, Path.GetFileName(tool.Path));
            Assert.True(tool.MajorVersion >= server.MajorVersion, $"{tool.Path} is {tool.MajorVersion}");
        }
    }

    [Fact]
    public async Task Refuses_a_client_tool_older_than_required_and_names_the_package()
    {
        var failure = await Assert.ThrowsAsync<PostgresSetupException>(
            () => PostgresBinaries.FindClientToolAsync("pg_dump", minimumMajorVersion: 999));

        Assert.Contains("pg_dump must be PostgreSQL 999 or newer", failure.Message);
        Assert.Contains("apt-get install postgresql-client-999", failure.Message);
    }

    [Fact]
    public async Task Says_what_was_searched_when_a_tool_is_not_installed_at_all()
    {
        var failure = await Assert.ThrowsAsync<PostgresSetupException>(() => PostgresBinaries.FindClientToolAsync("pg_no_such_tool"));

        Assert.Contains("No pg_no_such_tool was found", failure.Message);
        Assert.Contains("PATH (", failure.Message);
        Assert.Contains("apt-get install postgresql-client", failure.Message);
    }

    [Theory]
    [InlineData("pg_dump (PostgreSQL) 15.13 (Debian 15.13-1.pgdg120+1)", 15)]
    [InlineData("psql (PostgreSQL) 9.6.24", 9)]
    [InlineData("postgres (PostgreSQL) 17beta1", 17)]
    [InlineData("not a PostgreSQL version line", null)]
    public void Reads_the_major_version_from_version_output(string output, int? major) =>
        Assert.Equal(major, PostgresBinaries.ParseMajorVersion(output));
}
