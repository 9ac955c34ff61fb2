using System.Runtime.Versioning;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// squawk lints every pending script in Prerequisites, tuned to this runner: an error is refused with exit 2 before the fence and
/// changes nothing, unless the script acknowledges it with a reason, which the report then shows; warnings are shown and deploy.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class LintTests(PostgresFixture postgres)
{
    private const string TruncateCascade = "CREATE TABLE scratch (id bigint PRIMARY KEY);\nTRUNCATE scratch CASCADE;\n";
    private const string Reason = "scratch is new and nothing references it yet";

    [Fact]
    public async Task An_error_finding_is_refused_before_the_fence_with_the_script_line_rule_and_how_to_acknowledge_it_and_changes_nothing()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        scenario.Root.Migrations.Script("0.2", "040_scratch.sql", TruncateCascade);
        var before = await scenario.SnapshotAsync();

        var run = await scenario.DeployAsync("0.2");

        DeploymentScenario.AssertRefusedInPrerequisites(run, "lint");
        Assert.Contains("v0.2/040_scratch.sql:2 [ban-truncate-cascade]", run.Output);
        Assert.Contains("-- deploy:allow <rule> because <reason>", run.Output);
        await scenario.AssertUnchangedAsync(before, run);
    }

    [Fact]
    public async Task An_acknowledged_error_deploys_and_the_report_shows_the_reason_and_the_warnings()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        scenario.Root.Migrations.Script("0.2", "040_scratch.sql", $"-- deploy:allow ban-truncate-cascade because {Reason}\n{TruncateCascade}");

        var run = await scenario.DeployAsync("0.2");

        run.AssertExitCode(0);
        Assert.Matches(@"ok    lint: squawk 2\.66\.0: \d+ warning\(s\), 1 error\(s\) \(1 acknowledged\)", run.Output);
        // 0.2 drops full_name: a warning, in build.log (not on the console) and deployed.
        Assert.Matches(@"\| D \| Prerequisites\s+\|\s+v0\.2/010_split_names\.sql:4: warning \[ban-drop-column\]", scenario.Root.LastLog());
        Assert.DoesNotContain("warning [ban-drop-column]", run.Output);
        var report = scenario.Records.ReportMarkdown;
        Assert.Contains($"| v0.2/040_scratch.sql | 3 | error | ban-truncate-cascade |", report);
        Assert.Contains($"| {Reason} |", report);
        Assert.Contains("| v0.2/010_split_names.sql | 4 | warning | ban-drop-column |", report);
    }

    [Fact]
    public async Task An_allow_directive_without_a_reason_is_refused_with_the_fix()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        scenario.Root.Migrations.Script("0.2", "040_scratch.sql", $"-- deploy:allow ban-truncate-cascade\n{TruncateCascade}");
        var before = await scenario.SnapshotAsync();

        var run = await scenario.DeployAsync("0.2");

        DeploymentScenario.AssertRefusedInPrerequisites(run, "migrations");
        Assert.Contains("v0.2/040_scratch.sql", run.Output);
        Assert.Contains("-- deploy:allow <rule> because <why it is safe here>", run.Output);
        await scenario.AssertUnchangedAsync(before, run);
    }

    /// The school sample's 0.4 rebuilds tables under the fence: many warnings about the window's length, no error.
    [Fact]
    public async Task The_school_samples_0_4_passes_lint_in_Prerequisites_and_Plan_shows_the_findings_under_each_script()
    {
        using var root = new BuildRoot();
        var database = await TestDatabase.CreateAsync(postgres);
        var launch = SchoolSample.Launch(database);
        await SchoolSample.DeployAtV03Async(root, launch, database, users: 10);

        var prerequisites = await DeploymentScenario.RunInAsync(root, launch, "Prerequisites", "--version", "0.4");
        var plan = await DeploymentScenario.RunInAsync(root, launch, "Plan", "--version", "0.4");

        prerequisites.AssertExitCode(0);
        Assert.Matches(@"ok    lint: squawk 2\.66\.0: \d+ warning\(s\), 0 error\(s\) \(0 acknowledged\)", prerequisites.Output);
        plan.AssertExitCode(0);
        Assert.Matches(@"      v0\.4/110_drop_plaintext_passwords\.sql \(sql\)\r?\n          v0\.4/110_drop_plaintext_passwords\.sql:3: warning \[adding-not-nullable-field\]", plan.Output);
        Assert.Matches(@"Lint: squawk 2\.66\.0: \d+ warning\(s\), 0 error\(s\)", plan.Output);
        Assert.DoesNotContain("require-lock-timeout", plan.Output);
    }
}
