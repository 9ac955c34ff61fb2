using PgDeploy.Migrations.Analysis;

namespace PgDeploy.Migrations;

public enum UpgradePhase { Migrate, PostProcess }

/// A step of the plan with the target that runs it and its transaction segment: consecutive
/// transactional steps share a segment; a no-transaction script is a commit point of its own.
public sealed record PlannedStep(MigrationStep Step, UpgradePhase Phase, int Segment, bool OutsideTransaction);

public sealed record UpgradePlan(AppVersion? CurrentVersion, AppVersion TargetVersion, IReadOnlyList<PlannedStep> Steps)
{
    public bool IsEmpty => Steps.Count == 0;
    public IReadOnlyList<AppVersion> PendingVersions => Steps.Select(planned => planned.Step.Version).Distinct().ToList();
    public IEnumerable<PlannedStep> StepsOf(UpgradePhase phase) => Steps.Where(planned => planned.Phase == phase);
    public bool HasCommitPoints => Steps.Any(planned => planned.OutsideTransaction);

    /// <param name="findings">Shown under the script each belongs to.</param>
    public string Describe(IReadOnlyCollection<Finding>? findings = null)
    {
        if (IsEmpty)
            return $"The database is at {CurrentVersion}: nothing to do for --version {TargetVersion}.";
        var lines = new List<string> { $"Upgrade {CurrentVersion?.ToString() ?? "(empty database)"} -> {TargetVersion}: {string.Join(", ", PendingVersions)}" };
        foreach (var phase in Steps.GroupBy(planned => planned.Phase))
        {
            lines.Add($"  {phase.Key}:");
            foreach (var segment in phase.GroupBy(planned => planned.Segment))
            {
                var first = segment.First();
                lines.Add(first.OutsideTransaction
                    ? $"    commit point (no transaction, statement by statement; the work before it is committed first):"
                    : $"    transaction {segment.Key}:");
                foreach (var planned in segment)
                {
                    lines.Add($"      {planned.Step.DisplayName} ({planned.Step.Kind.ToString().ToLowerInvariant()})");
                    lines.AddRange((findings ?? []).Where(finding => finding.Script == planned.Step.DisplayName).Select(finding => $"          {finding}"));
                }
            }
        }
        return string.Join(Environment.NewLine, lines);
    }
}
