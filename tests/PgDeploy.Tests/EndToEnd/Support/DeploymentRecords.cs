using System.Text.Json;
using PgDeploy.Reporting;

namespace PgDeploy.Tests.EndToEnd.Support;

/// <summary>
/// What the build leaves outside the database for a person to read: the journal at .nuke/temp/deployments/&lt;env&gt;/journal.json
/// and report.md / report.json in the run's folder beside it.
/// </summary>
internal sealed class DeploymentRecords(string root, string environment)
{
    public string JournalPath => DeploymentJournal.DefaultPath(Path.Combine(root, ".nuke", "temp"), environment);

    public string DeploymentsDirectory => Path.GetDirectoryName(JournalPath)!;

    public DeploymentJournal Journal => DeploymentJournal.Load(JournalPath) ?? throw new Xunit.Sdk.XunitException($"There is no journal at {JournalPath}.");

    public string RunDirectory => Journal.RunDirectory;

    public string ReportMarkdownPath => Path.Combine(RunDirectory, "report.md");

    public string ReportJsonPath => Path.Combine(RunDirectory, "report.json");

    public string ReportMarkdown => File.ReadAllText(ReportMarkdownPath);

    /// <summary>Each target of the last run with its status as report.json writes it: Succeeded, Failed, Skipped, NotRun...</summary>
    public IReadOnlyDictionary<string, string> TargetStatuses()
    {
        using var report = JsonDocument.Parse(File.ReadAllText(ReportJsonPath));
        return report.RootElement.GetProperty("targets").EnumerateArray()
            .ToDictionary(target => target.GetProperty("name").GetString()!, target => target.GetProperty("status").GetString()!);
    }

    public string Outcome()
    {
        using var report = JsonDocument.Parse(File.ReadAllText(ReportJsonPath));
        return report.RootElement.GetProperty("outcome").GetString()!;
    }

    /// <summary>Every journal (current and archived) and report, of this environment and of any other the build was pointed at.</summary>
    public IEnumerable<string> Files()
    {
        var allEnvironments = Path.GetDirectoryName(DeploymentsDirectory)!;
        return Directory.Exists(allEnvironments) ? Directory.GetFiles(allEnvironments, "*", SearchOption.AllDirectories) : [];
    }
}
