using System.Xml.Linq;
using CliWrap;
using Serilog;
using TargetEngine;

/// Runs `dotnet test` per test project and totals the TRX results, so the count comes from what really ran.
static class TestRunner
{
    public static async Task<TestOutcome> RunAsync(AbsolutePath testsDirectory, AbsolutePath resultsDirectory, CancellationToken cancellationToken)
    {
        if (Directory.Exists(resultsDirectory))
            Directory.Delete(resultsDirectory, recursive: true);

        var projects = Directory.GetFiles(testsDirectory, "*.Tests.csproj", SearchOption.AllDirectories).Order().ToList();
        foreach (var project in projects)
        {
            Log.Information("Testing {Project}", Path.GetFileNameWithoutExtension(project));
            await Cli.Wrap("dotnet")
                .WithArguments(["test", project, "--nologo", "--logger", "trx", "--results-directory", resultsDirectory])
                .WithStandardOutputPipe(PipeTarget.ToDelegate(line => Log.Debug("{Line}", line)))
                .WithStandardErrorPipe(PipeTarget.ToDelegate(line => Log.Warning("{Line}", line)))
                .WithValidation(CommandResultValidation.None)
                .ExecuteAsync(cancellationToken);
        }

        return TestOutcome.FromTrxFiles(Directory.Exists(resultsDirectory) ? Directory.GetFiles(resultsDirectory, "*.trx") : []);
    }
}

record TestOutcome(int Passed, int Failed, int Skipped, int Files)
{
    public static TestOutcome FromTrxFiles(IEnumerable<string> files) =>
        files.Select(Read).Aggregate(new TestOutcome(0, 0, 0, 0), (sum, next) =>
            new TestOutcome(sum.Passed + next.Passed, sum.Failed + next.Failed, sum.Skipped + next.Skipped, sum.Files + 1));

    static TestOutcome Read(string trxFile)
    {
        var counters = XDocument.Load(trxFile).Descendants().Single(element => element.Name.LocalName == "Counters");
        int Count(string name) => int.Parse(counters.Attribute(name)?.Value ?? "0");
        return new TestOutcome(Count("passed"), Count("failed") + Count("error") + Count("timeout") + Count("aborted"), Count("notExecuted"), 1);
    }

    public void AssertGreen()
    {
        if (Files == 0)
            throw new InvalidOperationException("No test results were written: the test projects did not build or did not start. The log above shows the compiler or test host error.");
        if (Failed > 0)
            throw new InvalidOperationException($"{Failed} test(s) failed; the test names and messages are in the log above.");
        if (Passed == 0)
            throw new InvalidOperationException("No test ran: a test run that executes nothing proves nothing.");
    }

    public override string ToString() => Skipped > 0 ? $"{Passed} passed, {Failed} failed, {Skipped} skipped" : $"{Passed} passed, {Failed} failed";
}
