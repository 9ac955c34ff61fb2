using System.Text.Json;

namespace PgDeploy.Postgres;

/// <summary>What a persistent cluster must remember between runs; the port is chosen once so saved connection strings keep working.</summary>
internal sealed record ClusterState(int Port)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static ClusterState? Load(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<ClusterState>(File.ReadAllText(path), Options) : null;

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Options));
}
