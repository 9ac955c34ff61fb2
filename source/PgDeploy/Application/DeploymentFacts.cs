namespace PgDeploy.Application;

/// What a hook, and the health and smoke checks after it, may know of the deployment it serves. A version is null
/// when it is not known (a database without a recorded version has no from version); its variable is then not set.
/// <param name="Database">The database deployed: which one of a fleet's (one per tenant, say) the hook serves.</param>
public sealed record DeploymentFacts(string EnvironmentName, string RunId, string? FromVersion, string? ToVersion, string? Database = null)
{
    /// Set by the deployment only: a variable of one of these names in the environment or a .env file is dropped, so
    /// that a stale value cannot pass for a fact.
    internal static readonly string[] Names = ["DEPLOY_ENVIRONMENT", "DEPLOY_RUN_ID", "DEPLOY_FROM_VERSION", "DEPLOY_TO_VERSION", "DEPLOY_APP_VERSION", "DEPLOY_DATABASE"];

    /// The version the hook brings up or takes down.
    public string? AppVersion(HookKind kind) => kind == HookKind.Start ? ToVersion : FromVersion;

    /// The known facts as variables, in the order of Names.
    internal IEnumerable<KeyValuePair<string, string>> Variables(HookKind kind) =>
        Names.Zip([EnvironmentName, RunId, FromVersion, ToVersion, AppVersion(kind), Database])
            .Where(pair => pair.Second is not null)
            .Select(pair => KeyValuePair.Create(pair.First, pair.Second!));
}
