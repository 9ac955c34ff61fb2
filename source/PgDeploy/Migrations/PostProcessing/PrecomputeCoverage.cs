namespace PgDeploy.Migrations.PostProcessing;

/// <summary>How much of one transform is computed ahead of the fence.</summary>
/// <param name="Precomputable">False for a transform that declares no SourceBeforeUpgrade: it is computed inside the window by design.</param>
/// <param name="Rows">Rows its source reads now, on the schema before the upgrade (none counted when it cannot be read before the fence).</param>
/// <param name="Stored">Of those, rows with a stored result for their current values.</param>
/// <param name="ComputeSeconds">The estimated time to compute the rest on this machine's cores, from a sample computed now.</param>
/// <param name="Problem">Why it cannot be precomputed on this database now: its source or its step fails before the fence, or an earlier version is pending.</param>
public sealed record PrecomputeCoverage(string Step, string Transform, bool Precomputable, long Rows, long Stored, double ComputeSeconds, string? Problem = null)
{
    public long ToCompute => Rows - Stored;

    /// None for a transform whose rows cannot be read before the fence: all of them, however many, are computed inside the window.
    public double? Percent => !Precomputable || Problem is not null ? null : Rows == 0 ? 100 : 100.0 * Stored / Rows;

    public string Describe() =>
        Problem is not null ? $"{Transform} ({Step}): not precomputed: {Problem}; all its rows are computed inside the window"
        : !Precomputable ? $"{Transform} ({Step}): not precomputable (it declares no SourceBeforeUpgrade): all its rows are computed inside the window"
        : $"{Transform} ({Step}): {Percent:0.00} % precomputed, {ToCompute:N0} rows to compute inside the window, est. {ComputeSeconds:0.0} s";
}
