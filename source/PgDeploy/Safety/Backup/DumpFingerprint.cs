using System.Security.Cryptography;
using System.Text;
using PgDeploy.Environments;

namespace PgDeploy.Safety;

/// <summary>
/// The SHA-256 and size of a dump. A directory dump's hash is that of a canonical listing, one "&lt;sha256&gt;  &lt;relative path&gt;" line per
/// file in ordinal path order (what `sha256sum` prints), so a changed, missing or added file changes it.
/// </summary>
sealed record DumpFingerprint(string Sha256, long SizeBytes)
{
    public static async Task<DumpFingerprint> ComputeAsync(string path, DumpFormat format, CancellationToken cancellationToken)
    {
        if (format == DumpFormat.Custom)
        {
            return new DumpFingerprint(await HashFileAsync(path, cancellationToken), new FileInfo(path).Length);
        }

        var listing = new StringBuilder();
        long size = 0;
        var files = Directory.GetFiles(path, "*", SearchOption.AllDirectories)
            .Select(file => (Full: file, Relative: Path.GetRelativePath(path, file).Replace('\\', '/')))
            .OrderBy(file => file.Relative, StringComparer.Ordinal);
        foreach (var file in files)
        {
            listing.Append(await HashFileAsync(file.Full, cancellationToken)).Append("  ").Append(file.Relative).Append('\n');
            size += new FileInfo(file.Full).Length;
        }

        return new DumpFingerprint(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString()))), size);
    }

    static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }
}
