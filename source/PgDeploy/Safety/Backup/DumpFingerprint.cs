using System.Security.Cryptography;
using System.Text;
using PgDeploy.Environments;
using PgDeploy.Progress;

namespace PgDeploy.Safety;

/// <summary>
/// The SHA-256 and size of a dump. A directory dump's hash is that of a canonical listing, one "&lt;sha256&gt;  &lt;relative path&gt;" line per
/// file in ordinal path order (what `sha256sum` prints), so a changed, missing or added file changes it.
/// </summary>
sealed record DumpFingerprint(string Sha256, long SizeBytes)
{
    const int BufferSize = 1 << 20;

    /// <param name="progress">Hashing a dump of many gigabytes takes minutes; it reports the bytes read.</param>
    public static async Task<DumpFingerprint> ComputeAsync(string path, DumpFormat format, IWorkProgress progress, CancellationToken cancellationToken)
    {
        List<(string Full, string Relative)> files = format == DumpFormat.Custom
            ? [(path, "")]
            : Directory.GetFiles(path, "*", SearchOption.AllDirectories)
                .Select(file => (Full: file, Relative: Path.GetRelativePath(path, file).Replace('\\', '/')))
                .OrderBy(file => file.Relative, StringComparer.Ordinal)
                .ToList();
        var size = files.Sum(file => new FileInfo(file.Full).Length);
        using var report = progress.Begin(new LongWork("SHA-256 of the safe harbor", WorkUnit.Bytes, size));
        long read = 0;
        var hashes = new List<string>();
        foreach (var file in files)
            hashes.Add(await HashFileAsync(file.Full, count => report.Report(read += count), cancellationToken));
        report.Complete();

        if (format == DumpFormat.Custom)
            return new DumpFingerprint(hashes[0], size);
        var listing = string.Concat(files.Zip(hashes, (file, hash) => $"{hash}  {file.Relative}\n"));
        return new DumpFingerprint(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing))), size);
    }

    /// <summary>The bytes a dump holds so far: a file's length, or the sum of a directory's files (pg_dump writes them as it goes).</summary>
    public static long SizeOf(string path, DumpFormat format) =>
        format == DumpFormat.Custom
            ? new FileInfo(path).Length
            : new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(file => file.Length);

    static async Task<string> HashFileAsync(string path, Action<int> read, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        var buffer = new byte[BufferSize];
        int count;
        while ((count = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, count);
            read(count);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
