using System.Runtime.Versioning;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// Bad input is refused in Prerequisites with one clear error and exit code 2, before the application is stopped, the
/// database fenced or a safe harbor taken: the database at 0.1 stays exactly as it was.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class BadInputTests(PostgresFixture postgres)
{
    public enum BadInput
    {
        NoConnectionVariable,
        MalformedConnectionUrl,
        UnknownEnvironment,
        UnknownVersion,
        MalformedVersion,
        MissingMigrationsFolder,
        ProductionWithoutYesAndWithoutTerminal,
    }

    /// <summary>The password of the malformed URL: it must not appear anywhere, although the URL cannot be parsed.</summary>
    private const string MalformedUrlPassword = "S3cretPw";

    [Theory]
    [InlineData(BadInput.NoConnectionVariable, new[] { "No connection for environment 'ci'", "DATABASE_URL_CI_CLI is not set" })]
    [InlineData(BadInput.MalformedConnectionUrl, new[] { "The environment variable DATABASE_URL_CI_CLI cannot be used: its port is not a number from 1 to 65535" })]
    [InlineData(BadInput.UnknownEnvironment, new[] { "Unknown environment 'nope'", "Known environments: ci." })]
    [InlineData(BadInput.UnknownVersion, new[] { "--version 9.9: there is no folder v9.9", "the versions there are" })]
    [InlineData(BadInput.MalformedVersion, new[] { "--version 'zero.two' is not an application version" })]
    [InlineData(BadInput.MissingMigrationsFolder, new[] { "The migrations folder", "does not exist" })]
    [InlineData(BadInput.ProductionWithoutYesAndWithoutTerminal, new[] { "'ci' is a production environment and there is no terminal to confirm", "Pass --yes" })]
    public async Task Bad_input_is_refused_with_one_clear_error_and_exit_code_2_and_changes_nothing(BadInput input, string[] keyWords)
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        var launch = scenario.Launch;
        var version = "0.2";
        switch (input)
        {
            case BadInput.NoConnectionVariable:
                launch = launch with { ConnectionString = null };
                break;
            case BadInput.MalformedConnectionUrl:
                launch = launch with { ConnectionString = $"postgres://user:{MalformedUrlPassword}@host:notaport/db" };
                break;
            case BadInput.UnknownEnvironment:
                launch = launch with { Environment = "nope" };
                break;
            case BadInput.UnknownVersion:
                version = "9.9";
                break;
            case BadInput.MalformedVersion:
                version = "zero.two";
                break;
            case BadInput.MissingMigrationsFolder:
                launch = launch with { MigrationsDirectory = Path.Combine(scenario.Root.Directory, "no-such-migrations") };
                break;
            case BadInput.ProductionWithoutYesAndWithoutTerminal:
                await scenario.ConfigureAsync(scenario.Settings with { Production = true });
                break;
        }

        var before = await scenario.SnapshotAsync();

        var run = await scenario.RunAsync(launch, "Deploy", "--version", version);

        Assert.All(keyWords, keyWord => Assert.Contains(keyWord, run.Output));
        // The plan is one of the checks; the other inputs are refused before the checks, or, for production, after them.
        DeploymentScenario.AssertRefusedInPrerequisites(run, input is BadInput.UnknownVersion or BadInput.MissingMigrationsFolder ? "migrations" : null);
        await scenario.AssertUnchangedAsync(before, run);
        scenario.AssertSecretNowhere(MalformedUrlPassword, run);
    }
}
