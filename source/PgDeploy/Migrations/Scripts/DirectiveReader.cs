using System.Globalization;
using System.Text.RegularExpressions;

namespace PgDeploy.Migrations.Scripts;

/// <summary>Reads the "-- deploy:" directives, which count only in the comment lines before the first statement.</summary>
internal static partial class DirectiveReader
{
    const string Prefix = "deploy:";
    const string KnownDirectives =
        "known directives: -- deploy:no-transaction, -- deploy:lock-timeout <duration>, -- deploy:statement-timeout <duration>, "
        + "-- deploy:allow <rule> because <reason>, with durations such as 500ms, 5s, 2min, 1h or 1d";

    public static ScriptDirectives Read(IEnumerable<ScriptComment> lineComments, ICollection<ScriptProblem> problems)
    {
        var directives = ScriptDirectives.None;
        foreach (var comment in lineComments)
        {
            var directive = comment.Text[2..].Trim();
            if (!directive.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!comment.BeforeFirstStatement)
            {
                problems.Add(new ScriptProblem(comment.Line, ProblemSeverity.Warning,
                    $"'-- {directive}' is ignored: directives are read only from the leading comment lines, before the first statement"));
                continue;
            }

            var nameAndValue = directive[Prefix.Length..].Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var name = nameAndValue.FirstOrDefault()?.ToLowerInvariant() ?? "";
            var value = nameAndValue.ElementAtOrDefault(1);
            var (applied, error) = name switch
            {
                "no-transaction" when value is null => (directives with { NoTransaction = true }, null),
                "no-transaction" => (directives, "takes no value"),
                "lock-timeout" when PostgresDuration.TryParse(value, out var timeout) => (directives with { LockTimeout = timeout }, null),
                "statement-timeout" when PostgresDuration.TryParse(value, out var timeout) => (directives with { StatementTimeout = timeout }, null),
                "lock-timeout" or "statement-timeout" => (directives, value is null ? "needs a duration" : $"has an invalid duration '{value}'"),
                "allow" when Allowance().Match(value ?? "") is { Success: true } allowed => (directives with
                {
                    Allowances = [.. directives.Allowances, new(allowed.Groups["rule"].Value.ToLowerInvariant(), allowed.Groups["reason"].Value.Trim(), comment.Line)],
                }, null),
                "allow" => (directives,
                    "needs the rule and the reason, which goes into the deployment report: write -- deploy:allow <rule> because <why it is safe here>"),
                _ => (directives, "is not a known directive"),
            };
            directives = applied;
            if (error is not null)
            {
                problems.Add(new ScriptProblem(comment.Line, ProblemSeverity.Error, $"'-- {directive}' {error}; {KnownDirectives}"));
            }
        }

        return directives;
    }

    [GeneratedRegex(@"^(?<rule>[a-z0-9-]+)\s+because\s+(?<reason>\S.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex Allowance();
}
