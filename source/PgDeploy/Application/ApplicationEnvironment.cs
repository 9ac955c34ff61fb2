using PgDeploy.Environments;

namespace PgDeploy.Application;

/// What the application's hooks see, and what the ${VARIABLES} of HTTP hooks, health and smoke checks expand from:
/// the process environment over the .env files, without the runner's own credentials, with the deployment's facts.
/// The hooks serve the application, which has credentials of its own; the runner's would let any hook, or any
/// service an HTTP hook or check calls, act on the database as the deployment does.
public sealed class ApplicationEnvironment
{
    readonly Dictionary<string, string> visible;
    readonly string[] secrets;

    /// The .env files in order, a later one overriding an earlier one, and the process environment over them all
    /// (missing files are skipped), as dotenv loaders do.
    public ApplicationEnvironment(IReadOnlyDictionary<string, string> processEnvironment, IEnumerable<string> dotEnvFiles)
    {
        var fromFiles = dotEnvFiles.SelectMany(DotEnvFile.Read).ToList();
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in fromFiles.Concat(processEnvironment))
            all[name] = value;
        visible = all.Where(pair => !IsWithheld(pair.Key) && !DeploymentFacts.Names.Contains(pair.Key))
            .ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);
        // What .env files hold is secret by this project's convention, and so are the runner's connection string and
        // password wherever they come from. Its other libpq settings (PGHOST=localhost, PGUSER=postgres) are not, and masking
        // them would garble the output.
        secrets = fromFiles.Select(pair => pair.Value)
            .Concat(all.Where(pair => IsRunnerConnection(pair.Key) || pair.Key.Equals("PGPASSWORD", StringComparison.OrdinalIgnoreCase)).Select(pair => pair.Value))
            .ToArray();
    }

    /// The runner's own credentials, which no hook nor check sees: every DATABASE_URL_&lt;ENV&gt;_CLI, and every libpq
    /// variable (PG*). Not only PGPASSWORD and PGPASSFILE: PGUSER, PGHOST, PGSERVICE (whose service file may hold a
    /// password), PGSSLCERT and PGSSLKEY describe the runner's connection too, and a hook's psql would silently connect
    /// with them, as the runner. A hook that needs the database connects as the application, with settings of its own.
    /// Matched ignoring case, as Windows does: withholding one variable too many is harmless.
    internal static bool IsWithheld(string name) => IsRunnerConnection(name) || name.StartsWith("PG", StringComparison.OrdinalIgnoreCase);

    static bool IsRunnerConnection(string name) =>
        name.StartsWith("DATABASE_URL_", StringComparison.OrdinalIgnoreCase) && name.EndsWith("_CLI", StringComparison.OrdinalIgnoreCase);

    /// The variables of one hook, and of the health and smoke checks that follow it.
    internal HookVariables For(HookKind kind, DeploymentFacts facts)
    {
        var values = new Dictionary<string, string>(visible, StringComparer.Ordinal);
        foreach (var (name, value) in facts.Variables(kind))
            values[name] = value;
        return new HookVariables(values, secrets);
    }

    /// Refuses, before anything changes, settings whose hooks or checks refer to the runner's credentials: found only
    /// when the hook or check runs, the refusal would come after the upgrade.
    public static void CheckReferences(EnvironmentSettings settings)
    {
        foreach (var (kind, hook) in new[] { (HookKind.Stop, settings.Hooks.Stop), (HookKind.Start, settings.Hooks.Start), (HookKind.Revert, settings.Hooks.Revert) })
        {
            if (hook is null)
                continue;
            foreach (var text in new[] { hook.Command, hook.Url, hook.Body }.Concat(hook.Headers.Values))
                HookVariables.RefuseWithheld(text, kind.Describe());
        }
        if (settings.Health is { } health)
            foreach (var text in new[] { health.Url, health.ExpectBody })
                HookVariables.RefuseWithheld(text, HealthProbe.UsedBy);
        foreach (var check in settings.Smoke)
            foreach (var text in new[] { check.Url, check.Body, check.ExpectBody }.Concat(check.Headers.Values))
                HookVariables.RefuseWithheld(text, SmokeChecks.UsedBy(check));
    }
}
