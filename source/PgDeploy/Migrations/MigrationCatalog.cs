using System.Text.RegularExpressions;
using PgDeploy.Migrations.PostProcessing;
using PgDeploy.Migrations.Scripts;

namespace PgDeploy.Migrations;

/// Reads a migrations folder: one sub-folder per application version (v0.3, v0.4, ...), each holding
/// numbered SQL scripts and C# post-processing steps that run in the order of their numbers.
/// Problems are collected, not thrown one by one, so that the operator sees every one of them at once.
public sealed partial class MigrationCatalog
{
    public const string VerifyFolder = "verify";

    public required string Directory { get; init; }
    public required IReadOnlyList<VersionMigrations> Versions { get; init; }
    public required IReadOnlyList<CatalogProblem> Problems { get; init; }

    public IEnumerable<CatalogProblem> Errors => Problems.Where(problem => problem.Severity == ProblemSeverity.Error);

    public VersionMigrations? Find(AppVersion version) => Versions.FirstOrDefault(folder => folder.Version == version);

    /// The migrations folder may also hold the C# steps' project (migrations/Migrations.csproj): its build output is no version.
    static readonly string[] BuildOutputFolders = ["bin", "obj"];

    public static MigrationCatalog Load(string directory, IEnumerable<Type> stepTypes)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new DeploymentRefusedException(
                $"The migrations folder '{directory}' does not exist. Point --migrations-dir at the folder that holds the v<major>.<minor> version folders, or create it.");

        var problems = new List<CatalogProblem>();
        var stepTypeList = stepTypes.Where(type => type.IsSubclassOf(typeof(PostProcessStep)) && !type.IsAbstract).ToList();
        var versions = new List<VersionMigrations>();
        foreach (var folder in System.IO.Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
        {
            var folderName = Path.GetFileName(folder);
            if (BuildOutputFolders.Contains(folderName))
                continue;
            if (!folderName.StartsWith('v') || !AppVersion.TryParse(folderName, out var version))
            {
                problems.Add(new(folderName, 0, ProblemSeverity.Warning, "ignored: version folders are named v<major>.<minor>, e.g. v0.4"));
                continue;
            }
            versions.Add(new VersionMigrations(version, folder, LoadSteps(version, folder, stepTypeList, problems)));
        }
        versions.Sort((left, right) => left.Version.CompareTo(right.Version));
        return new MigrationCatalog { Directory = directory, Versions = versions, Problems = problems };
    }

    static List<MigrationStep> LoadSteps(AppVersion version, string folder, List<Type> stepTypes, List<CatalogProblem> problems)
    {
        var steps = new List<MigrationStep>();
        foreach (var file in System.IO.Directory.GetFiles(folder))
        {
            var fileName = Path.GetFileName(file);
            var displayName = $"{version.FolderName}/{fileName}";
            var extension = Path.GetExtension(file);
            if (extension is not (".sql" or ".cs"))
                continue;
            var match = StepFileName().Match(fileName);
            if (!match.Success)
            {
                problems.Add(new(displayName, 0, ProblemSeverity.Error,
                    "the file name must start with its order number, e.g. 010_add_column.sql or 020_HashPasswords.cs; rename it so that its place in the order is explicit"));
                continue;
            }
            var order = int.Parse(match.Groups["order"].Value);
            var content = File.ReadAllText(file);
            var checksum = Checksum.Of(content);
            if (extension == ".sql")
            {
                var script = SqlScriptParser.Parse(content);
                problems.AddRange(script.Problems.Select(problem => new CatalogProblem(displayName, problem.Line, problem.Severity, problem.Message)));
                steps.Add(new SqlScriptStep(version, order, fileName, checksum, script));
            }
            else if (FindStepType(version, match.Groups["name"].Value, stepTypes) is { } stepType)
                steps.Add(new CSharpStep(version, order, fileName, checksum, stepType));
            else
                problems.Add(new(displayName, 0, ProblemSeverity.Error,
                    $"no post-processing step class for this file: declare 'class {match.Groups["name"].Value} : PostProcessStep' in namespace " +
                    $"{StepNamespace(version)} in this file, and make sure the file is compiled into the build (build/_build.csproj includes migrations/**/*.cs)"));
        }

        foreach (var clash in steps.GroupBy(step => step.Order).Where(group => group.Count() > 1))
            problems.Add(new($"{version.FolderName}/", 0, ProblemSeverity.Error,
                $"{string.Join(" and ", clash.Select(step => step.FileName))} share the order number {clash.Key}; give each file its own number so the order is not left to chance"));

        return steps.OrderBy(step => step.Order).ThenBy(step => step.FileName, StringComparer.Ordinal).ToList();
    }

    /// Steps of different versions may share a class name, so the namespace tells them apart.
    public static string StepNamespace(AppVersion version) => $"Migrations.V{version.Major}_{version.Minor}";

    static Type? FindStepType(AppVersion version, string name, List<Type> stepTypes) =>
        stepTypes.FirstOrDefault(type => type.Name == name && type.Namespace == StepNamespace(version));

    [GeneratedRegex(@"^(?<order>\d+)_(?<name>[^.]+)\.(sql|cs)$")]
    private static partial Regex StepFileName();
}

public sealed record CatalogProblem(string File, int Line, ProblemSeverity Severity, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}
