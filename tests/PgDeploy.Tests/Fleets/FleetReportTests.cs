using PgDeploy.Fleets;

namespace PgDeploy.Tests.Fleets;

/// <summary>The fleet's exit code is its most serious outcome, as one deployment's is: a person needed outweighs everything, and refusals count as one only while nothing was changed.</summary>
public sealed class FleetReportTests
{
    [Theory]
    [InlineData(new[] { "Deployed", "UpToDate" }, 0)]
    [InlineData(new[] { "Deployed", "Failed", "NotStarted" }, ExitCodes.Failed)]
    [InlineData(new[] { "Refused", "NotStarted" }, ExitCodes.Refused)]
    [InlineData(new[] { "UpToDate", "Refused" }, ExitCodes.Refused)]
    [InlineData(new[] { "Deployed", "Refused" }, ExitCodes.Failed)]
    [InlineData(new[] { "Refused", "Failed" }, ExitCodes.Failed)]
    [InlineData(new[] { "Failed", "PersonNeeded", "NotStarted" }, ExitCodes.PersonNeeded)]
    [InlineData(new[] { "Interrupted", "NotStarted" }, ExitCodes.Failed)]
    [InlineData(new[] { "Unknown", "Deployed" }, ExitCodes.Failed)]
    public void The_fleet_fails_with_its_most_serious_outcome(string[] statuses, int exitCode)
    {
        var report = Report([.. statuses.Select(status => Outcome(Enum.Parse<FleetMemberStatus>(status)))]);

        Assert.Equal(exitCode, report.Failure("fleet.md")?.ExitCode ?? ExitCodes.Succeeded);
    }

    [Fact]
    public void A_database_left_unfinished_by_an_earlier_run_and_refused_now_counts_as_a_refusal()
    {
        var report = Report([Outcome(FleetMemberStatus.Unfinished, ExitCodes.Refused), Outcome(FleetMemberStatus.NotStarted)]);

        var failure = report.Failure("fleet.md");

        Assert.IsType<DeploymentRefusedException>(failure);
        Assert.Contains("2 database(s): 0 deployed, 0 already at 0.2, 0 failed, 1 unfinished, 1 not started; report fleet.md.", failure.Message);
        Assert.Contains("An unfinished one is in the middle of its deployment", failure.Message);
    }

    [Fact]
    public void The_summary_names_the_rarer_outcomes_only_when_they_happened_and_the_guidance_what_each_left()
    {
        var report = Report([Outcome(FleetMemberStatus.PersonNeeded, ExitCodes.PersonNeeded), Outcome(FleetMemberStatus.Failed, ExitCodes.Failed), Outcome(FleetMemberStatus.Deployed)]);

        var failure = Assert.IsType<PersonNeededException>(report.Failure("fleet.md"));

        Assert.StartsWith("Fleet 'tenants': 3 database(s): 1 deployed, 0 already at 0.2, 1 failed, 1 need a person, 0 not started;", failure.Message);
        Assert.Contains("A database that needs a person comes first", failure.Message);
        Assert.Contains("a failed or interrupted one was rolled back and is as it was before", failure.Message);
        Assert.DoesNotContain("refused", failure.Message);
        Assert.Equal("1 database(s): 1 deployed, 0 already at 0.2, 0 failed, 0 not started", Report([Outcome(FleetMemberStatus.Deployed)]).Summary);
    }

    static FleetReport Report(IReadOnlyList<FleetMemberOutcome> outcomes) =>
        new("tenants", "0.2", "continue", DateTimeOffset.UtcNow, [.. outcomes.Select((outcome, index) => outcome with { Database = $"tenant_{index + 1}" })]);

    static FleetMemberOutcome Outcome(FleetMemberStatus status, int? exitCode = null) =>
        new("tenant", 1, status, exitCode, "0.1", status is FleetMemberStatus.Deployed or FleetMemberStatus.UpToDate ? "0.2" : "0.1", null, 1, "output.log", null);
}
