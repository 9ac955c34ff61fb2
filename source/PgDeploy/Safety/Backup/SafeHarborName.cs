using System.Globalization;
using System.Text.RegularExpressions;
using PgDeploy.Environments;

namespace PgDeploy.Safety;

/// <summary>
/// Names a safe harbor after the deployment it belongs to: &lt;environment&gt;-&lt;database&gt;-v&lt;app version&gt;-&lt;UTC start&gt;-&lt;run id&gt;.dump
/// (or .dir), so an operator can tell in a directory listing which one to restore.
/// </summary>
static partial class SafeHarborName
{
    /// <summary>Added to the names of a dump and its manifest while they are written; taken off once the safe harbor is verified.</summary>
    public const string PartialSuffix = ".partial";

    const string UnknownVersion = "unknown";

    public static string For(string environment, string database, string? appVersion, DateTime startedUtc, string runId, DumpFormat format) =>
        $"{Safe(environment)}-{Safe(database)}-v{Safe(appVersion ?? UnknownVersion)}-"
        + $"{startedUtc.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}-{Safe(runId)}{Extension(format)}";

    /// <summary>Whether a directory entry is named like a safe harbor of this environment and database (its manifest decides for sure).</summary>
    public static bool Matches(string fileName, string environment, string database) =>
        Regex.IsMatch(fileName, $@"^{Regex.Escape(Safe(environment))}-{Regex.Escape(Safe(database))}-v.+-\d{{8}}T\d{{6}}Z-.+\.(dump|dir)$");

    /// <summary>Whether a directory entry is the unfinished dump or manifest of a safe harbor named like one of this environment and database.</summary>
    public static bool MatchesPartial(string fileName, string environment, string database)
    {
        if (!fileName.EndsWith(PartialSuffix, StringComparison.Ordinal))
        {
            return false;
        }

        var name = fileName[..^PartialSuffix.Length];
        var dumpName = name.EndsWith(BackupManifest.FileSuffix, StringComparison.Ordinal) ? name[..^BackupManifest.FileSuffix.Length] : name;
        return Matches(dumpName, environment, database);
    }

    static string Extension(DumpFormat format) => format == DumpFormat.Directory ? ".dir" : ".dump";

    // A database or version may hold characters a file name must not (/, spaces, quotes); the manifest keeps the real names.
    static string Safe(string part) => UnsafeCharacters().Replace(part, "_");

    [GeneratedRegex("[^A-Za-z0-9._+-]")]
    private static partial Regex UnsafeCharacters();
}
