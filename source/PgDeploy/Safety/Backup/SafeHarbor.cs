namespace PgDeploy.Safety;

/// <summary>A verified dump and its manifest, as taken by SafeHarborBackup or accepted with --backup-file.</summary>
public sealed record SafeHarbor(string DumpPath, BackupManifest Manifest)
{
    public string ManifestPath => BackupManifest.PathFor(DumpPath);

    /// <summary>The safe harbor at <paramref name="dumpPath"/> (a .dump file or a .dir directory); refused with <paramref name="advice"/> when it has no manifest.</summary>
    public static SafeHarbor Load(string dumpPath, string advice)
    {
        var fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dumpPath));
        if (!File.Exists(fullPath) && !Directory.Exists(fullPath))
        {
            throw new DeploymentException($"The dump {fullPath} does not exist. {advice}");
        }

        return new SafeHarbor(fullPath, BackupManifest.Read(BackupManifest.PathFor(fullPath), advice));
    }
}
