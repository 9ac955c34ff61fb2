using System.Security.Cryptography;
using System.Text;

namespace PgDeploy.Migrations.History;

/// A fingerprint of what a database has applied: the successful history rows (version, name, kind, checksum) in
/// order. Two states of one database with the same digest have the same schema history, so a safe harbor whose
/// digest equals the database's, less what the current deployment applied, was taken of the state being replaced.
public static class HistoryDigest
{
    public static string Of(IEnumerable<HistoryRow> history, string? exceptRunId = null)
    {
        var lines = history
            .Where(row => row.Success && row.RunId != exceptRunId)
            .OrderBy(row => row.InstalledRank)
            .Select(row => $"{row.Version}\t{row.Name}\t{row.Kind}\t{row.Checksum}\n");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(lines))));
    }
}
