namespace PgDeploy.Application;

/// <summary>
/// The environment of a process this tool starts: exactly the variables it is given. This process's own environment holds the
/// connection URLs (DATABASE_URL_*_CLI, with their passwords) and whatever .env set; a child that does not need them must not see them.
/// </summary>
public static class ChildEnvironment
{
    /// CliWrap sets these over this process's own environment and removes those given as null: every other variable of this
    /// process is given as null.
    public static IReadOnlyDictionary<string, string?> Exactly(IReadOnlyDictionary<string, string> values)
    {
        var exactly = Environment.GetEnvironmentVariables().Keys.Cast<string>().ToDictionary(name => name, string? (_) => null);
        foreach (var (name, value) in values)
            exactly[name] = value;
        return exactly;
    }

    /// What a tool that only reads its input needs to start: where programs are, its home, and its language.
    public static IReadOnlyDictionary<string, string?> ForTool() =>
        Exactly(new[] { "PATH", "HOME", "LANG" }
            .Where(name => Environment.GetEnvironmentVariable(name) is not null)
            .ToDictionary(name => name, name => Environment.GetEnvironmentVariable(name)!));
}
