using System.Text.Json;
using System.Text.Json.Serialization;
using PgDeploy.Migrations;

namespace PgDeploy.Environments;

/// What environments/<name>.json says about one environment. It holds no secrets: the connection
/// string comes from DATABASE_URL_<NAME>_CLI, in the environment or in .env.
public sealed record EnvironmentSettings
{
    public string? Description { get; init; }

    /// A production environment asks for an explicit "y" (or --yes without a terminal) before it changes anything.
    public bool Production { get; init; }

    /// The local environment runs on the throwaway PostgreSQL under .nuke/temp/postgres; this names its database.
    public string? LocalDatabase { get; init; }

    public MigrationSettings Migrations { get; init; } = new();

    static readonly JsonSerializerOptions Options = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new PostgresDuration.JsonConverter() },
    };

    public static EnvironmentSettings Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<EnvironmentSettings>(File.ReadAllText(path), Options)
                   ?? throw new JsonException("the file is empty");
        }
        catch (JsonException exception)
        {
            throw new DeploymentException($"{path} is not valid environment settings: {exception.Message} Fix the file; nothing was changed.");
        }
    }
}
