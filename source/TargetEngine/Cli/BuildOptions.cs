using TargetEngine.Parameters;

namespace TargetEngine.Cli;

internal enum Verbosity { Quiet, Minimal, Normal, Verbose }

/// <summary>The engine's own parameters; they come from the command line only.</summary>
internal sealed class BuildOptions
{
    public static readonly (string Name, string Description)[] BuiltIns =
    [
        ("target", "Targets to run; their names may also come first, without --target."),
        ("skip", "Targets to skip; a bare --skip skips every target that was not invoked."),
        ("help", "Shows this help."),
        ("plan", "Shows the execution plan and writes .nuke/temp/execution-plan.html; runs nothing."),
        ("verbosity", "Console verbosity; Verbose adds the debug lines that .nuke/temp/build.log always has. Default: Normal. Allowed values: Quiet, Minimal, Normal, Verbose."),
        ("profile", "Loads .nuke/parameters.<name>.json for each name; later profiles win."),
        ("root", "Root directory. Default: the nearest directory above with a .nuke directory; a bare --root means the working directory."),
        ("log-directory", "Directory of the file logs (build.log and the last five timestamped ones), for a build started by another build. Default: .nuke/temp."),
        ("host", "Host to log for. Default: detected from GITHUB_ACTIONS or GITLAB_CI. Allowed values: Terminal, GitHubActions, GitLab."),
    ];

    public static bool IsBuiltIn(string key) => key == "h" || BuiltIns.Any(x => Arguments.Normalize(x.Name) == key);

    public IReadOnlyList<string> Errors { get; private init; } = [];
    public Verbosity Verbosity { get; private init; }
    public BuildHost Host { get; private init; }
    public AbsolutePath? Root { get; private init; }
    /// <summary>Given by a build that starts this one, so that runs side by side keep their own build.log; null: .nuke/temp.</summary>
    public AbsolutePath? LogDirectory { get; private init; }
    public bool Help { get; private init; }
    public bool Plan { get; private init; }
    public string[] Targets { get; private init; } = [];
    public string[]? Skip { get; private init; }
    public string[] Profiles { get; private init; } = [];

    public static BuildOptions Parse(Arguments arguments, IReadOnlyDictionary<string, string?> environment, string workingDirectory)
    {
        var errors = new List<string>();

        T Convert<T>(string name, T fallback)
        {
            try
            {
                return arguments[name] is { } values ? (T)ValueConverter.Convert(typeof(T), new(values, "command line"), $"--{name}", secret: false, root: null)! : fallback;
            }
            catch (InvalidUsageException exception)
            {
                errors.AddRange(exception.Errors);
                return fallback;
            }
        }

        var root = arguments["root"] switch
        {
            null => FindRoot(workingDirectory),
            [] => AbsolutePath.Create(workingDirectory),
            var values => AbsolutePath.Create(Path.GetFullPath(values[0], workingDirectory)),
        };
        if (root is null)
            errors.Add($"Could not locate '.nuke' directory while walking up from '{workingDirectory}'. Either create a directory to mark the root directory, or add '--root [path]'.");

        AbsolutePath? logDirectory = null;
        if (arguments["log-directory"] is [var directory])
            logDirectory = AbsolutePath.Create(Path.GetFullPath(directory, workingDirectory));
        else if (arguments["log-directory"] is not null)
            errors.Add("--log-directory takes one directory, where this run writes build.log; give it once, with a path.");

        return new BuildOptions
        {
            Verbosity = Convert("verbosity", Verbosity.Normal),
            Host = Convert("host", DetectHost(environment)),
            Root = root,
            LogDirectory = logDirectory,
            Help = arguments["help"] is not null || arguments["h"] is not null,
            Plan = arguments["plan"] is not null,
            Targets = [.. arguments.Positional, .. Convert<string[]>("target", [])],
            Skip = arguments["skip"] is null ? null : Convert<string[]>("skip", []),
            Profiles = arguments["profile"] ?? [],
            Errors = errors,
        };
    }

    static BuildHost DetectHost(IReadOnlyDictionary<string, string?> environment) =>
        environment.GetValueOrDefault("GITHUB_ACTIONS") == "true" ? BuildHost.GitHubActions
        : environment.GetValueOrDefault("GITLAB_CI") == "true" ? BuildHost.GitLab
        : BuildHost.Terminal;

    static AbsolutePath? FindRoot(string workingDirectory)
    {
        for (var directory = new DirectoryInfo(workingDirectory); directory is not null; directory = directory.Parent)
        {
            if (Directory.Exists(Path.Combine(directory.FullName, ".nuke")))
                return AbsolutePath.Create(directory.FullName);
        }

        return null;
    }
}
