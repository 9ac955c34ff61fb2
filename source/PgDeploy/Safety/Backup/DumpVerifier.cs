using System.Text.RegularExpressions;
using PgDeploy.Environments;
using PgDeploy.Postgres;
using PgDeploy.Progress;

namespace PgDeploy.Safety;

/// <summary>
/// Proves a dump is usable before anything relies on it: its bytes are the ones the manifest recorded (a flipped byte or a
/// truncation is caught here), and pg_restore can read its table of contents, which holds the data of every table counted.
/// </summary>
static partial class DumpVerifier
{
    /// <param name="advice">What to do instead when the dump is refused; ends every message.</param>
    public static async Task VerifyAsync(SafeHarbor harbor, ClientTool pgRestore, string advice, IWorkProgress progress, CancellationToken cancellationToken)
    {
        await VerifyFingerprintAsync(harbor, advice, progress, cancellationToken);
        await VerifyListingAsync(harbor.DumpPath, harbor.Manifest.Format, harbor.Manifest.RowCounts, pgRestore, advice, cancellationToken);
    }

    static async Task VerifyFingerprintAsync(SafeHarbor harbor, string advice, IWorkProgress progress, CancellationToken cancellationToken)
    {
        var expected = harbor.Manifest;
        var isThere = expected.Format == DumpFormat.Directory ? Directory.Exists(harbor.DumpPath) : File.Exists(harbor.DumpPath);
        if (!isThere)
        {
            throw new DeploymentException(
                $"The safe harbor {harbor.DumpPath} is not a {PgDumpRunner.FormatName(expected.Format)}-format dump as its manifest says "
                + $"({(expected.Format == DumpFormat.Directory ? "a directory" : "a file")} was expected). {advice}");
        }

        var actual = await DumpFingerprint.ComputeAsync(harbor.DumpPath, expected.Format, progress, cancellationToken);
        if (actual.SizeBytes != expected.SizeBytes)
        {
            throw new DeploymentException(
                $"The safe harbor {harbor.DumpPath} is damaged: it is {actual.SizeBytes} bytes but was {expected.SizeBytes} bytes when it was taken "
                + $"({(actual.SizeBytes < expected.SizeBytes ? "truncated" : "appended to")}). Do not restore it. {advice}");
        }

        if (!string.Equals(actual.Sha256, expected.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new DeploymentException(
                $"The safe harbor {harbor.DumpPath} is damaged: its SHA-256 is {actual.Sha256} but was {expected.Sha256} when it was taken. "
                + $"Do not restore it. {advice}");
        }
    }

    /// <summary>pg_restore --list reads the archive's whole table of contents; each counted table needs its TABLE DATA entry.</summary>
    public static async Task VerifyListingAsync(
        string dumpPath, DumpFormat format, IReadOnlyList<TableRowCount> rowCounts, ClientTool pgRestore, string advice, CancellationToken cancellationToken)
    {
        var listing = await PgRestoreRunner.ListAsync(
            pgRestore, dumpPath, format, $"The dump cannot be read, so it cannot be restored. {advice}", cancellationToken);
        // Entries read "<id>; <catalog oid> <oid> TABLE DATA <schema> <table> <owner>"; names are not quoted, so each table is
        // looked for as the known prefix "<schema> <table> " (binary search in the sorted entries) instead of being parsed out.
        var tableData = listing.Select(line => TableDataEntry().Match(line)).Where(match => match.Success)
            .Select(match => match.Groups[1].Value + " ")
            .Order(StringComparer.Ordinal)
            .ToList();
        var missing = rowCounts
            .Where(count => !count.Partitioned && !HasEntryStartingWith(tableData, $"{count.Schema} {count.Table} "))
            .Select(count => count.ToString())
            .ToList();
        if (missing.Count > 0)
        {
            throw new DeploymentException(
                $"The dump {dumpPath} holds no data for {missing.Count} table(s) that were counted when it was taken: {string.Join(", ", missing.Take(10))}"
                + $"{(missing.Count > 10 ? ", …" : "")}. A restore would lose their rows. {advice}");
        }
    }

    static bool HasEntryStartingWith(List<string> sortedEntries, string prefix)
    {
        var index = sortedEntries.BinarySearch(prefix, StringComparer.Ordinal);
        return index >= 0 || (~index < sortedEntries.Count && sortedEntries[~index].StartsWith(prefix, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"^\d+; \d+ \d+ TABLE DATA (.*)$")]
    private static partial Regex TableDataEntry();
}
