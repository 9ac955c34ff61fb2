using System.Text;

namespace PgDeploy.Safety;

/// <summary>
/// The names a restore gives the databases it makes: &lt;db&gt;__restore_&lt;run id&gt; while it fills the new one, and
/// &lt;db&gt;__failed_&lt;run id&gt; for the original it swaps out and keeps for forensics; &lt;db&gt;__probe_&lt;suffix&gt; for the empty
/// database the rights check creates and drops; &lt;db&gt;__harbor_&lt;run id&gt; for the clone that is the first safe harbor;
/// &lt;db&gt;__rehearse_&lt;run id&gt; for the scratch copy a rehearsal upgrades.
/// </summary>
static class RestoreNames
{
    const int MaxIdentifierBytes = 63;

    public static string Restoring(string database, string runId) => Make(database, $"__restore_{runId}");

    public static string Failed(string database, string runId) => Make(database, $"__failed_{runId}");

    /// <summary>The clone of the database that clone+dump makes inside the fence as the first safe harbor.</summary>
    public static string Harbor(string database, string runId) => Make(database, $"__harbor_{runId}");

    public static string Probe(string database, string suffix) => Make(database, $"__probe_{suffix}");

    public static string Rehearsal(string database, string runId) => Make(database, $"__rehearse_{runId}");

    // PostgreSQL truncates identifiers beyond 63 bytes; the database part gives way so the suffix, which makes the name unique, survives.
    static string Make(string database, string suffix)
    {
        var room = MaxIdentifierBytes - Encoding.UTF8.GetByteCount(suffix);
        if (room < 1)
        {
            throw new DeploymentException(
                $"The run id in '{suffix}' is too long to name the databases a restore makes (63 bytes at most). Use a shorter run id; nothing was changed.");
        }

        var prefix = database;
        while (Encoding.UTF8.GetByteCount(prefix) > room)
        {
            // Drop a whole character (a surrogate pair counts as one) so the name stays valid UTF-8.
            prefix = prefix[..^(char.IsLowSurrogate(prefix[^1]) && prefix.Length > 1 ? 2 : 1)];
        }

        return prefix + suffix;
    }
}
