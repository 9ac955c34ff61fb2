namespace TargetEngine.Cli;

/// <summary>NUKE's command line: leading positional values, then <c>--name value…</c> or <c>--name=value</c>; the last occurrence wins.</summary>
internal sealed class Arguments(IReadOnlyList<string> positional, IReadOnlyList<Arguments.Option> options)
{
    internal sealed record Option(string Flag, string Key, string[] Values);

    public IReadOnlyList<string> Positional => positional;
    public IEnumerable<Option> Options => options;

    public string[]? this[string name] => options.LastOrDefault(x => x.Key == Normalize(name))?.Values;

    public static string Normalize(string name) => name.Replace("-", "").ToLowerInvariant();

    public static Arguments Parse(IReadOnlyList<string> args)
    {
        var positional = args.TakeWhile(x => !IsFlag(x)).ToList();
        var options = new List<Option>();
        for (var i = positional.Count; i < args.Count; i++)
        {
            var values = args.Skip(i + 1).TakeWhile(x => !IsFlag(x)).ToList();
            var flag = args[i].Split('=', 2);
            options.Add(new(flag[0], Normalize(flag[0]), [.. flag.Skip(1), .. values]));
            i += values.Count;
        }

        return new(positional, options);
    }

    static bool IsFlag(string arg) => arg.StartsWith('-');
}
