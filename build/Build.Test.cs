using TargetEngine;

partial class Build
{
    AbsolutePath TestResultsDirectory => TemporaryDirectory / "test-results";

    Target Test => _ => _
        .Description("Run every test project (the PostgreSQL tests start a throwaway cluster) and print 'N passed, N failed'")
        .Executes(async cancellationToken =>
        {
            var outcome = await TestRunner.RunAsync(RootDirectory / "tests", TestResultsDirectory, cancellationToken);
            ReportSummary(outcome.ToString());
            outcome.AssertGreen();
        });
}
