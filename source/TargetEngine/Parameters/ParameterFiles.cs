using System.Text.Json;
using TargetEngine.Cli;

namespace TargetEngine.Parameters;

/// <summary><c>.nuke/parameters.json</c> and the <c>--profile</c> files, highest precedence first.</summary>
internal sealed class ParameterFiles(IReadOnlyList<(string File, string Key, string[]? Values)> entries)
{
    const string DefaultFile = "parameters.json";

    public static void EnsureDefault(AbsolutePath root)
    {
        var file = root / ".nuke" / DefaultFile;
        if (!file.Exists())
            File.WriteAllText(file, "{ \"$schema\": \"./build.schema.json\" }\n");
    }

    public static ParameterFiles Load(AbsolutePath root, IEnumerable<string> profiles, IReadOnlyList<ParameterMember> parameters)
    {
        var errors = new List<string>();
        var entries = new List<(string, string, string[]?)>();
        foreach (var name in profiles.Reverse().Select(x => $"parameters.{x}.json").Append(DefaultFile))
        {
            var file = root / ".nuke" / name;
            var display = $".nuke/{name}";
            if (!file.Exists())
            {
                if (name != DefaultFile)
                    errors.Add($"Profile file {display} does not exist.");
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
                foreach (var property in document.RootElement.EnumerateObject().Where(x => x.Name != "$schema"))
                {
                    if (parameters.Any(x => x.Matches(property.Name)))
                        entries.Add((display, property.Name, property.Value.ValueKind == JsonValueKind.Null ? null : Values(property.Value)));
                    else
                        errors.Add($"Unknown key '{property.Name}' in {display}.{Suggestion.DidYouMean(property.Name, parameters.Select(x => x.MemberName), anyDistance: true)}");
                }
            }
            catch (Exception exception) when (exception is JsonException or InvalidOperationException)
            {
                errors.Add($"{display} is not a JSON object of parameters: {exception.Message}");
            }
        }

        return errors.Count > 0 ? throw new InvalidUsageException([.. errors]) : new(entries);
    }

    public ValueSource? Find(ParameterMember parameter) =>
        entries.Where(x => parameter.Matches(x.Key) && x.Values is not null).Select(x => new ValueSource(x.Values!, x.File)).FirstOrDefault();

    static string[] Values(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => [.. element.EnumerateArray().SelectMany(Values)],
        JsonValueKind.String => [element.GetString()!],
        _ => [element.GetRawText()],
    };
}
