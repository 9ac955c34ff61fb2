using System.Text.Json;
using System.Text.Json.Nodes;

namespace TargetEngine.Parameters;

/// <summary>Writes <c>.nuke/build.schema.json</c>, which IDEs use to complete parameters.json.</summary>
internal static class SchemaWriter
{
    public static void Write(AbsolutePath file, IReadOnlyList<ParameterMember> parameters, IEnumerable<ExecutableTarget> targets)
    {
        var properties = new JsonObject { ["$schema"] = new JsonObject { ["type"] = "string" } };
        foreach (var parameter in parameters)
            properties[parameter.MemberName] = Describe(parameter);

        var schema = new JsonObject
        {
            ["$schema"] = "http://json-schema.org/draft-04/schema#",
            ["title"] = "Build Schema",
            ["definitions"] = new JsonObject { ["ExecutableTarget"] = new JsonObject { ["type"] = "string", ["enum"] = Strings(targets.Select(x => x.Name)) } },
            ["properties"] = properties,
        };
        File.WriteAllText(file, schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    static JsonObject Describe(ParameterMember parameter)
    {
        var node = Schema(parameter.Type);
        if (parameter.Description is { } description)
            node["description"] = description;
        return node;
    }

    static JsonObject Schema(Type type) =>
        type.IsArray ? new JsonObject { ["type"] = "array", ["items"] = Schema(type.GetElementType()!) }
        : ValueConverter.ElementType(type) is { IsEnum: true } enumType ? new JsonObject { ["type"] = "string", ["enum"] = Strings(Enum.GetNames(enumType)) }
        : new JsonObject { ["type"] = JsonType(ValueConverter.ElementType(type)) };

    static string JsonType(Type type) =>
        type == typeof(int) || type == typeof(long) ? "integer"
        : type == typeof(double) ? "number"
        : type == typeof(bool) ? "boolean"
        : "string";

    static JsonArray Strings(IEnumerable<string> values) => [.. values.Select(x => (JsonNode?)x)];
}
