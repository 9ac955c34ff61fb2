using System.Text.RegularExpressions;

namespace PgDeploy.Application;

/// The variables one hook, and the checks after it, sees (see ApplicationEnvironment). Settings name them as
/// ${VARIABLE}: a shell command's shell expands them itself, an HTTP request's are expanded here at the moment of the
/// call. An expanded text is only ever sent, never written to a log or a message.
sealed partial class HookVariables(IReadOnlyDictionary<string, string> values, IEnumerable<string> secrets)
{
    /// Shorter values are not masked: they are no secrets, and masking every "1" or "true" would garble the output.
    const int ShortestMaskedValue = 4;

    readonly HashSet<string> masked = [.. secrets];

    /// The hook process's whole environment: nothing else of the runner's process is inherited.
    public IReadOnlyDictionary<string, string> Values => values;

    public string Expand(string text, string usedBy)
    {
        Refer(text, usedBy);
        return Reference().Replace(text, match => values.GetValueOrDefault(match.Groups[1].Value) is { Length: > 0 } value
            ? value
            : throw NotSet(match.Groups[1].Value, usedBy));
    }

    /// Refuses the runner's credentials, and remembers what the text refers to for Mask; for a shell command, which the
    /// shell expands itself.
    public void Refer(string text, string usedBy)
    {
        RefuseWithheld(text, usedBy);
        // A value the settings refer to by name is a secret by this project's convention; the deployment's facts are not.
        foreach (Match match in AnyReference().Matches(text))
            if (!DeploymentFacts.Names.Contains(match.Groups[1].Value) && values.GetValueOrDefault(match.Groups[1].Value) is { Length: > 0 } value)
                masked.Add(value);
    }

    /// Output of a hook, or an answer of the application, with every value known to be secret replaced by ***: what a
    /// hook or another process echoes must not reach the log, the journal or a message.
    public string Mask(string text) =>
        masked.Where(value => value.Length >= ShortestMaskedValue).OrderByDescending(value => value.Length)
            .Aggregate(text, (result, value) => result.Replace(value, "***", StringComparison.Ordinal));

    /// Refers to a withheld variable: $NAME too, for a shell command expands that form as well.
    public static void RefuseWithheld(string? text, string usedBy)
    {
        if (text is null)
            return;
        foreach (Match match in AnyReference().Matches(text))
            if (ApplicationEnvironment.IsWithheld(match.Groups[1].Value))
                throw new DeploymentException(
                    $"{usedBy} refers to ${{{match.Groups[1].Value}}}, a variable of the deployment runner's own connection, which no hook nor check " +
                    "sees: it would hand the runner's credentials to the application, or send them over HTTP. Give the application what it needs " +
                    "under a name of its own (its own role's connection string or password) in the environment or .env, refer to that, and run again.");
    }

    static DeploymentException NotSet(string name, string usedBy) =>
        DeploymentFacts.Names.Contains(name)
            ? new DeploymentException(
                $"{usedBy} refers to ${{{name}}}, a fact of the deployment that this run does not know (a version is unknown when the database " +
                "had none recorded). Leave the variable out of this hook or check, or record the database's version with ./build.sh Baseline, and run again.")
            : new DeploymentException(
                $"{usedBy} refers to ${{{name}}}, which is not set in the environment nor in .env. Set it (in CI, from the environment's secrets) and run again.");

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Reference();

    [GeneratedRegex(@"\$\{?([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex AnyReference();
}
