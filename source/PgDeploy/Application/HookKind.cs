namespace PgDeploy.Application;

/// Which of an environment's hooks runs. It decides which version DEPLOY_APP_VERSION names: stop takes the
/// running (from) version down, start brings the deployed (to) version up, revert brings the from version back.
public enum HookKind { Stop, Start, Revert }

static class HookKindName
{
    /// "start", as the settings file names the hook.
    public static string Name(this HookKind kind) => kind.ToString().ToLowerInvariant();

    /// "The start hook": how messages name a hook, the same way whether it runs or its settings are checked.
    public static string Describe(this HookKind kind) => $"The {kind.Name()} hook";
}
