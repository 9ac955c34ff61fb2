using System.Runtime.Versioning;
using System.Security.Cryptography;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using Xunit.Abstractions;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// The runner's password, given only in DATABASE_URL_CI_CLI, appears in no command line of any process while a deploy and its
/// rollback run (pg_dump and pg_restore are the build's children), and in nothing the build writes.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class SecretExposureTests(PostgresFixture postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task The_runners_password_is_in_no_process_command_line_no_output_and_no_file_during_a_deploy_and_its_rollback()
    {
        var password = $"Runner-Pw-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
        await using var scenario = await DeploymentScenario.CreateAsync(postgres, dedicatedRunnerPassword: password);
        BuildRun prepare, deploy;
        CommandLineSampler sampler;
        await using (sampler = CommandLineSampler.Start(password))
        {
            prepare = await scenario.DeployAsync("0.1");
            // Fails after Verify's checks, so the whole procedure runs and Rollback restores the safe harbor with pg_restore.
            deploy = await scenario.DeployAsync("0.2", "--inject-failure", "Verify");
        }

        prepare.AssertExitCode(0);
        deploy.AssertExitCode(1);
        Assert.Equal("Succeeded", scenario.Records.TargetStatuses()["Rollback"]);
        output.WriteLine($"{sampler.Rounds} sampling rounds; PostgreSQL client processes seen: " +
                         string.Join(", ", sampler.ProgramsSeen.Where(seen => seen.Key.StartsWith("pg_", StringComparison.Ordinal)).Select(seen => $"{seen.Key} ×{seen.Value}")));
        Assert.True(sampler.ProgramsSeen.ContainsKey("pg_dump") || sampler.ProgramsSeen.ContainsKey("pg_restore"),
            "The sampling never caught pg_dump or pg_restore running, so it proves nothing about their command lines.");
        Assert.Empty(sampler.Leaks);

        scenario.AssertSecretNowhere(password, prepare, deploy);
    }
}
