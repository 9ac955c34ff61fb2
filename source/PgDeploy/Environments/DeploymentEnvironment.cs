using PgDeploy.Postgres;

namespace PgDeploy.Environments;

/// A named target environment: its checked-in settings and where its connection string comes from.
public sealed record DeploymentEnvironment(string Name, EnvironmentSettings Settings, string SettingsFile)
{
    public const string Local = "local";

    public bool IsLocal => Settings.LocalDatabase is not null;
    public string ConnectionVariable => $"DATABASE_URL_{Name.ToUpperInvariant().Replace('-', '_')}_CLI";

    public static DeploymentEnvironment Load(string environmentsDirectory, string name)
    {
        var file = Path.Combine(environmentsDirectory, $"{name}.json");
        if (!File.Exists(file))
        {
            var known = Directory.Exists(environmentsDirectory)
                ? Directory.GetFiles(environmentsDirectory, "*.json").Select(Path.GetFileNameWithoutExtension).Order().ToList()
                : [];
            throw new DeploymentRefusedException(
                $"Unknown environment '{name}': there is no {file}. Known environments: {(known.Count > 0 ? string.Join(", ", known) : "none")}. " +
                "Pass one of them with --target-env, or add a settings file for the new environment.");
        }
        return new DeploymentEnvironment(name, EnvironmentSettings.Load(file), file);
    }

    /// The connection string of a remote environment: DATABASE_URL_&lt;NAME&gt;_CLI (or <paramref name="variable"/>, e.g. the
    /// rehearsal server's) from the process environment, else from the .env file. Its value is a secret and never appears in a message.
    public string RemoteConnectionString(string dotEnvFile, Func<string, string?> environmentVariable, string? variable = null)
    {
        var name = variable ?? ConnectionVariable;
        var value = environmentVariable(name);
        // PostgresUrl writes "The {source} cannot be used: ...".
        var source = $"environment variable {name}";
        if (string.IsNullOrWhiteSpace(value) && DotEnvFile.Read(dotEnvFile).TryGetValue(name, out var fromFile))
            (value, source) = (fromFile, $"{name} in {dotEnvFile}");
        if (string.IsNullOrWhiteSpace(value))
            throw new DeploymentRefusedException(
                $"No connection for environment '{Name}': {name} is not set in the environment nor in {dotEnvFile}. " +
                $"Set it to a postgres:// URL or an Npgsql connection string (in CI, from the environment's secrets).");
        try
        {
            return PostgresUrl.ToNpgsqlConnectionString(value, source);
        }
        catch (FormatException exception)
        {
            throw new DeploymentRefusedException(exception.Message, exception);
        }
    }
}
