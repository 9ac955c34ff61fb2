using Serilog;

namespace PgDeploy.Safety;

/// <summary>
/// Finds the safe harbors of one environment and database in a directory, and deletes the oldest beyond how many to keep. Only
/// entries this tool made are touched: named like a safe harbor of that environment and database, with a readable manifest that
/// says so. Anything else in the directory is left alone.
/// </summary>
static class SafeHarborRetention
{
    /// <summary>Newest first, by the time each dump started.</summary>
    public static IReadOnlyList<SafeHarbor> List(string directory, string environment, string database)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var harbors = new List<SafeHarbor>();
        foreach (var path in Directory.EnumerateFileSystemEntries(directory).Where(path => SafeHarborName.Matches(Path.GetFileName(path), environment, database)))
        {
            var manifestPath = BackupManifest.PathFor(path);
            if (!File.Exists(manifestPath))
            {
                continue;
            }

            try
            {
                var manifest = BackupManifest.Read(manifestPath, "");
                if (manifest.Environment == environment && manifest.Database == database && manifest.FileName == Path.GetFileName(path))
                {
                    harbors.Add(new SafeHarbor(path, manifest));
                }
            }
            catch (DeploymentException exception)
            {
                Log.Warning("Ignoring {Path} when looking for safe harbors: {Reason}", path, exception.Message);
            }
        }

        return harbors.OrderByDescending(harbor => harbor.Manifest.StartedUtc).ToList();
    }

    /// <summary>Deletes the oldest safe harbors beyond <paramref name="keep"/>, never <paramref name="justTaken"/>; returns the deleted dumps' paths.</summary>
    public static IReadOnlyList<string> Prune(SafeHarbor justTaken, string directory, int keep)
    {
        var manifest = justTaken.Manifest;
        var surplus = List(directory, manifest.Environment, manifest.Database)
            .Where(harbor => harbor.DumpPath != justTaken.DumpPath)
            .Skip(Math.Max(0, keep - 1))
            .ToList();
        foreach (var harbor in surplus)
        {
            ReadOnlyDump.Delete(harbor.DumpPath, harbor.Manifest.Format);
            ReadOnlyDump.DeleteFile(harbor.ManifestPath);
            Log.Information("Deleted the old safe harbor {Path} (taken {Taken:u}, {Size} bytes): backup.keep is {Keep}",
                harbor.DumpPath, harbor.Manifest.StartedUtc, harbor.Manifest.SizeBytes, keep);
        }

        return surplus.Select(harbor => harbor.DumpPath).ToList();
    }
}
