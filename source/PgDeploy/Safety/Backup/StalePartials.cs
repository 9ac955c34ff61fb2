using PgDeploy.Environments;
using Serilog;

namespace PgDeploy.Safety;

/// <summary>
/// Removes what a safe harbor of one environment and database left when its run was killed before the dump was verified: the
/// &lt;name&gt;.partial dump and &lt;manifest&gt;.partial, which retention never deletes because they are no safe harbor. The caller
/// holds that database's deployment lock, so no dump of it is running. A partial has no manifest yet, so it is known by its name
/// alone: entries named like another environment's or database's safe harbors, and anything not named like one, are left alone.
/// </summary>
static class StalePartials
{
    public static void Remove(string directory, string environment, string database)
    {
        var stale = Directory.EnumerateFileSystemEntries(directory)
            .Where(path => SafeHarborName.MatchesPartial(Path.GetFileName(path), environment, database))
            .ToList();
        foreach (var path in stale)
        {
            // Housekeeping, like retention: an entry that cannot be deleted is no reason to stop a deployment.
            try
            {
                ReadOnlyDump.Delete(path, Directory.Exists(path) ? DumpFormat.Directory : DumpFormat.Custom);
                Log.Information("Removed {Path}, left unfinished by an earlier safe harbor of database {Database} that was stopped before it completed", path, database);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                Log.Warning("Could not remove {Path}, left unfinished by an earlier safe harbor of database {Database}: {Reason}. It is no usable dump; delete it by hand",
                    path, database, exception.Message);
            }
        }
    }
}
