using System.Collections;
using System.Security.Cryptography;
using PgDeploy.Application;

namespace PgDeploy.Tests.Application.Support;

/// <summary>
/// A directory for one test's .env files, in which its hooks run, and the runner's process environment as the build
/// would pass it: this test process's own, plus what the test adds. The real environment is never changed, because the
/// other tests, and the processes they start, share it.
/// </summary>
internal sealed class HookSandbox : IDisposable
{
    public static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static readonly DeploymentFacts Facts = new("ci", "run-42", FromVersion: "0.3", ToVersion: "0.4", Database: "school");

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("pgdeploy-hooks-").FullName;

    /// <summary>A value no test writes twice, so that finding it anywhere can only mean it leaked.</summary>
    public static string Secret(string what) => $"{what}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";

    public static Dictionary<string, string> ProcessEnvironment(params (string Name, string Value)[] added)
    {
        var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>().ToDictionary(entry => (string)entry.Key, entry => (string)entry.Value!);
        foreach (var (name, value) in added)
            environment[name] = value;
        return environment;
    }

    public string WriteDotEnv(string name, params string[] lines)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    public HookRunner Runner(ApplicationEnvironment environment) => new(environment, Http, Directory);

    /// <summary>What `env &gt; name` wrote in a hook: its raw text and its variables.</summary>
    public (string Text, IReadOnlyDictionary<string, string> Variables) ReadEnv(string name)
    {
        var text = File.ReadAllText(Path.Combine(Directory, name));
        var variables = text.Split('\n')
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .GroupBy(parts => parts[0])
            .ToDictionary(group => group.Key, group => group.Last()[1]);
        return (text, variables);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
