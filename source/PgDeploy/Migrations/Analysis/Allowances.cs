namespace PgDeploy.Migrations.Analysis;

/// <summary>
/// Applies the scripts' `-- deploy:allow &lt;rule&gt; because &lt;reason&gt;` directives to the findings: an acknowledged finding keeps its
/// severity and carries the reason into the report, but no longer refuses. The linter and the data checks each apply it to their
/// own findings, and report a directive that allows nothing only for a rule they own.
/// </summary>
public static class Allowances
{
    /// <param name="owns">The rules of the caller's analysis; null: all.</param>
    public static IReadOnlyList<Finding> Apply(IEnumerable<Finding> findings, IEnumerable<SqlScriptStep> scripts, Func<string, bool>? owns = null)
    {
        var allowances = scripts.SelectMany(step => step.Script.Directives.Allowances.Select(allowance => (Script: step.DisplayName, allowance))).ToList();
        var applied = findings.Select(finding =>
            allowances.FirstOrDefault(allowed => allowed.Script == finding.Script && allowed.allowance.Rule == finding.Rule) is { allowance: { } match }
                ? finding with { Acknowledged = match.Reason }
                : finding).ToList();
        var unused = allowances
            .Where(allowed => (owns is null || owns(allowed.allowance.Rule)) && !applied.Any(finding => finding.Script == allowed.Script && finding.Rule == allowed.allowance.Rule))
            .Select(allowed => new Finding(FindingSeverity.Warning, allowed.allowance.Rule, allowed.Script, allowed.allowance.Line, "",
                $"-- deploy:allow {allowed.allowance.Rule}: nothing to allow, no finding of {allowed.allowance.Rule} in this script.",
                "Remove the directive, or correct the rule's name (the one in brackets in the finding)."));
        return [.. applied, .. unused];
    }
}
