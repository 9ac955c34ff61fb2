using CliWrap.Buffered;
using PgDeploy.Migrations.Analysis;

namespace PgDeploy.Tests.Migrations.Analysis;

/// <summary>squawk and the parser read scripts: they start without the runner's connection URLs in their environment.</summary>
public sealed class SqlToolsTests
{
    [Fact]
    public async Task A_tool_starts_without_the_connection_urls_of_the_runner()
    {
        const string name = "DATABASE_URL_SQLTOOLS_TEST_CLI";
        Environment.SetEnvironmentVariable(name, "postgres://runner:S3cretForTools@localhost/db");
        try
        {
            var environment = (await new SqlTools(Path.GetTempPath()).Command("/usr/bin/env").ExecuteBufferedAsync()).StandardOutput;

            Assert.DoesNotContain("S3cretForTools", environment);
            Assert.Contains("PATH=", environment);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }
}
