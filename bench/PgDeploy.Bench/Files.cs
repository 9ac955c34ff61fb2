// The benchmarks start local PostgreSQL clusters, which PgDeploy supports on Linux and macOS only.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

namespace PgDeploy.Bench;

static class Files
{
    /// <summary>Deletes a tree that may hold read-only safe harbors (files 0444, directories 0555).</summary>
    public static void DeleteTree(string path)
    {
        if (File.Exists(path))
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Delete(path);
            return;
        }
        if (!Directory.Exists(path))
            return;
        var writable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        File.SetUnixFileMode(path, writable);
        foreach (var directory in Directory.GetDirectories(path, "*", SearchOption.AllDirectories))
            File.SetUnixFileMode(directory, writable);
        Directory.Delete(path, recursive: true);
    }

    public static long Size(string path) =>
        File.Exists(path) ? new FileInfo(path).Length
        : Directory.Exists(path) ? Directory.GetFiles(path, "*", SearchOption.AllDirectories).Sum(file => new FileInfo(file).Length)
        : 0;

    public static double MiB(long bytes) => bytes / 1024.0 / 1024.0;
}
