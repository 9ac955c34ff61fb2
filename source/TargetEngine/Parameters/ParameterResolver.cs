using Serilog;
using TargetEngine.Cli;

namespace TargetEngine.Parameters;

/// <summary>NUKE's resolution order: command line, then environment, then profile files, then parameters.json, then the initializer.</summary>
internal sealed class ParameterResolver(Arguments arguments, IReadOnlyDictionary<string, string?> environment, ParameterFiles files, AbsolutePath root)
{
    public static void RejectUnknownArguments(Arguments arguments, IReadOnlyList<ParameterMember> parameters)
    {
        var known = parameters.Select(x => x.DashedName).Concat(BuildOptions.BuiltIns.Select(x => x.Name)).ToList();
        var errors = arguments.Options
            .Where(x => !BuildOptions.IsBuiltIn(x.Key) && !parameters.Any(parameter => parameter.Matches(x.Key)))
            .Select(x => $"Unknown parameter '{x.Flag}'.{Suggestion.DidYouMean(x.Flag, known, name => $"--{name}")}")
            .Distinct()
            .ToArray();
        if (errors.Length > 0)
            throw new InvalidUsageException(errors);
    }

    public void Inject(BuildBase build, IReadOnlyList<ParameterMember> parameters)
    {
        var errors = new List<string>();
        foreach (var parameter in parameters)
        {
            try
            {
                if (Resolve(parameter) is not { } source)
                    continue;
                var value = ValueConverter.Convert(parameter.Type, source, $"--{parameter.DashedName}", parameter.IsSecret, root);
                parameter.SetValue(build, value);
                Log.Debug("Parameter {Name} = {Value} ({Source})", parameter.Name, parameter.Format(value), source.Origin);
            }
            catch (InvalidUsageException exception)
            {
                errors.AddRange(exception.Errors);
            }
        }

        if (errors.Count > 0)
            throw new InvalidUsageException([.. errors]);
    }

    ValueSource? Resolve(ParameterMember parameter) => FromCommandLine(parameter) ?? FromEnvironment(parameter) ?? files.Find(parameter);

    ValueSource? FromCommandLine(ParameterMember parameter) =>
        arguments.Options.LastOrDefault(x => parameter.Matches(x.Key)) is { } option ? new(option.Values, "command line") : null;

    ValueSource? FromEnvironment(ParameterMember parameter)
    {
        var name = Alphanumeric(parameter.Name);
        var matches = environment.TryGetValue(parameter.Name, out var exact) && !string.IsNullOrEmpty(exact)
            ? [new(parameter.Name, exact)]
            : environment
                .Where(x => !string.IsNullOrEmpty(x.Value) && Alphanumeric(x.Key) is var key && (key == name || key == $"NUKE{name}"))
                .OrderBy(x => x.Key, StringComparer.Ordinal)
                .ToList();
        if (matches.Select(x => x.Value).Distinct().Count() > 1)
            throw new InvalidUsageException($"Environment variables {string.Join(" and ", matches.Select(x => x.Key))} set parameter --{parameter.DashedName} to different values.");
        return matches is [var match, ..]
            ? new(parameter.Type.IsArray ? match.Value!.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [match.Value!], $"environment variable {match.Key}")
            : null;
    }

    static string Alphanumeric(string name) => new string([.. name.Where(char.IsLetterOrDigit)]).ToUpperInvariant();
}
