using System.Linq.Expressions;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace TargetEngine.Tests;

/// <summary>A temporary root with a .nuke directory, an explicit environment and a captured output.</summary>
internal sealed class Sandbox : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("target-engine-").FullName;
    public Dictionary<string, string?> Environment { get; } = [];
    public string Output { get; private set; } = "";
    public string WorkingDirectory { get; set; }

    public Sandbox()
    {
        Directory.CreateDirectory(Path.Combine(Root, ".nuke"));
        WorkingDirectory = Root;
    }

    public string PathOf(string relativePath) => Path.Combine(Root, relativePath);

    public void Write(string relativePath, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PathOf(relativePath))!);
        File.WriteAllText(PathOf(relativePath), text);
    }

    public string Read(string relativePath) => File.ReadAllText(PathOf(relativePath));

    public BuildResult Run<T>(params string[] args) where T : BuildBase, new() => RunWithDefaults<T>(args);

    public BuildResult RunWithDefaults<T>(string[] args, params Expression<Func<T, Target>>[] defaultTargets) where T : BuildBase, new()
    {
        using var output = new StringWriter();
        var result = BuildRunner.Run(
            new RunSettings { Args = args, Environment = Environment, WorkingDirectory = WorkingDirectory, Output = output, Interactive = false },
            defaultTargets);
        Output = output.ToString();
        return result;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

internal static class ResultExtensions
{
    public static TargetResult Target(this BuildResult result, string name) => result.Targets.Single(x => x.Name == name);
    public static IEnumerable<string> Names(this BuildResult result) => result.Targets.Select(x => x.Name);
    public static TargetStatus StatusOf(this BuildResult result, string name) => result.Target(name).Status;
}
