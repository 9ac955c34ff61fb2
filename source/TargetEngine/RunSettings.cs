namespace TargetEngine;

public enum BuildHost { Terminal, GitHubActions, GitLab }

public enum TargetStatus { None, Scheduled, NotRun, Skipped, Succeeded, Failed, Running, Aborted, Collective }

/// <summary>What <see cref="BuildRunner.Run{T}"/> reads instead of the process: arguments, environment, working directory and output.</summary>
public sealed record RunSettings
{
    public required string[] Args { get; init; }

    /// <summary>Null reads the process environment.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Null is the process's current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Null is <see cref="Console.Out"/>.</summary>
    public TextWriter? Output { get; init; }

    /// <summary>Null detects it: a terminal with a real stdin that is not a server build.</summary>
    public bool? Interactive { get; init; }
}

public sealed record BuildResult(int ExitCode, IReadOnlyList<TargetResult> Targets);

/// <param name="Failure">What the target threw, when it failed: a build may derive its exit code from it.</param>
public sealed record TargetResult(string Name, TargetStatus Status, TimeSpan Duration, IReadOnlyList<string> Notes, Exception? Failure = null);
