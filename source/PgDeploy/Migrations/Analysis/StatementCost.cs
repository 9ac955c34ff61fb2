using PgDeploy.Safety.Verification;

namespace PgDeploy.Migrations.Analysis;

/// <summary>
/// What one statement will cost inside the window, estimated from the size of the table it works on and this server's measured
/// throughput: a scan reads the table once, a rewrite writes it again and rebuilds its indexes, an index build sorts it.
/// </summary>
/// <param name="Work">scan, write, rewrite, index; empty for a statement that only changes the catalog.</param>
/// <param name="Seconds">Null when the table's size at that point is unknown: the plan created it.</param>
public sealed record StatementCost(StatementSite Site, string? Table, string? Lock, IReadOnlyList<string> Work, long Bytes, long Rows, double? Seconds)
{
    /// <param name="bytesRead">What the query of a fill reads; the table it fills is written at about that size.</param>
    internal static StatementCost Estimate(
        StatementSite site, StatementFacts facts, TableName? name, PlanSchema.Table? table, bool volatileDefault, long bytesRead, ServerThroughput? throughput)
    {
        var work = volatileDefault ? [.. facts.Work, "rewrite"] : facts.Work;
        if (work.SequenceEqual(["fill"]))
            return new StatementCost(site, name?.ToString() ?? facts.Creates?.ToString(), facts.Lock, work, bytesRead, 0, throughput is null ? null : bytesRead / throughput.Write);
        if (table is null || work.Count == 0)
            return new StatementCost(site, name?.ToString(), facts.Lock, work, 0, 0, work.Count == 0 ? 0 : null);
        // A table the plan changed before keeps about today's size; one it created is sized by what filled it, if anything did.
        double? seconds = (table.CreatedByPlan && table.Bytes == 0) || throughput is null ? null : work.Distinct().Sum(kind => kind switch
        {
            "fill" => bytesRead / throughput.Write,
            "scan" => table.Bytes / throughput.Scan,
            "write" => table.Bytes / throughput.Write,
            "rewrite" => table.Bytes / throughput.Rewrite + table.Indexes * table.Bytes / throughput.Index,
            "index" => table.Bytes / throughput.Index,
            _ => 0,
        });
        return new StatementCost(site, name?.ToString(), facts.Lock, work, table.Bytes, table.Rows, seconds);
    }

    public string Describe() =>
        $"{Site}: {(Work.Count == 0 ? "catalog only" : string.Join("+", Work.Distinct()))}" +
        (Table is null ? "" : $" of {Table} ({Bytes / 1048576.0:N1} MB, ~{Rows:N0} rows)") +
        (Lock is null ? "" : $", {Lock} lock") +
        (Seconds is { } seconds ? $", est. {Format(seconds)}" : Work.Count > 0 ? ", not estimated (the plan creates the table)" : "");

    public static string Format(double seconds) =>
        seconds < 1 ? $"{seconds * 1000:N0} ms" : seconds < 120 ? $"{seconds:N1} s" : $"{seconds / 60:N1} min";
}
