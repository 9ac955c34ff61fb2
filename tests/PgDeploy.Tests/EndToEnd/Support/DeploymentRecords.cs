using System.Text.Json;
using PgDeploy.Deployments;

namespace PgDeploy.Tests.EndToEnd.Support;

/// <summary>
/// What the build leaves outside the database for a person to read, for one database: the journal at
/// .nuke/temp/deployments/&lt;database&gt;-&lt;cluster id&gt;/journal.json and report.md / report.json in the run's folder beside it.
/// </summary>
internal sealed class DeploymentRecords(string root, string database)
{
    public string DeploymentsDirectory => Path.Combine(root, ".nuke", "temp", "deployments");

    /// <summary>The database's journal: one folder per database, named after it and its cluster.</summary>
    public string JournalPath =>
        (Directory.Exists(DeploymentsDirectory) ? Directory.GetDirectories(DeploymentsDirectory, $"{database}-*") : [])
            .Select(folder => Path.Combine(folder, DeploymentJournal.FileName))
            .SingleOrDefault(File.Exists)
        ?? Path.Combine(DeploymentsDirectory, $"{database}-(none)", DeploymentJournal.FileName);

    public bool HasJournal => File.Exists(JournalPath);

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

    /// <summary>Every journal (current and archived) and report of every database the build was pointed at.</summary>
    public IEnumerable<string> Files() =>
        Directory.Exists(DeploymentsDirectory) ? Directory.GetFiles(DeploymentsDirectory, "*", SearchOption.AllDirectories) : [];
}
