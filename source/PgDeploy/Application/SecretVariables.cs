using System.Text.RegularExpressions;

namespace PgDeploy.Application;

/// Hooks and smoke checks name their secrets as ${VARIABLE}; the value comes from the process
/// environment or .env at the moment of the call, and is never written back into a log line.
public sealed partial class SecretVariables(Func<string, string?> lookup)
{
    public string Expand(string text, string usedBy) =>
        Reference().Replace(text, match => lookup(match.Groups[1].Value) is { Length: > 0 } value
            ? value
            : throw new DeploymentException(
                $"{usedBy} refers to ${{{match.Groups[1].Value}}}, which is not set in the environment nor in .env. Set it (in CI, from the environment's secrets) and run again."));

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Reference();
}
