using PgDeploy.Environments;

namespace PgDeploy.Safety;

/// <summary>
/// Makes a safe harbor read-only (files 0444, a directory dump's directory 0555) so nothing appends to or rewrites it by
/// accident, and deletes one (retention), which needs it writable again first.
/// </summary>
static class ReadOnlyDump
{
    const UnixFileMode ReadOnlyFile = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    const UnixFileMode ReadOnlyDirectory = ReadOnlyFile | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public static void Protect(string path, DumpFormat format) => SetReadOnly(path, format, readOnly: true);

    public static void Delete(string path, DumpFormat format)
    {
        SetReadOnly(path, format, readOnly: false);
        if (format == DumpFormat.Directory)
        {
            Directory.Delete(path, recursive: true);
        }
        else
        {
            File.Delete(path);
        }
    }

    /// <summary>For a single file such as the manifest.</summary>
    public static void ProtectFile(string file) => SetFileReadOnly(file, readOnly: true);

    public static void DeleteFile(string file)
    {
        SetFileReadOnly(file, readOnly: false);
        File.Delete(file);
    }

    static void SetReadOnly(string path, DumpFormat format, bool readOnly)
    {
        if (format == DumpFormat.Custom)
        {
            SetFileReadOnly(path, readOnly);
            return;
        }

        // Unix needs the directory writable to remove its files; Windows has no read-only directories, only files.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, readOnly ? ReadOnlyDirectory : ReadOnlyDirectory | UnixFileMode.UserWrite);
        }

        foreach (var file in Directory.GetFiles(path, "*", SearchOption.AllDirectories))
        {
            SetFileReadOnly(file, readOnly);
        }
    }

    static void SetFileReadOnly(string file, bool readOnly)
    {
        if (OperatingSystem.IsWindows())
        {
            File.SetAttributes(file, readOnly ? FileAttributes.ReadOnly : FileAttributes.Normal);
        }
        else
        {
            File.SetUnixFileMode(file, readOnly ? ReadOnlyFile : ReadOnlyFile | UnixFileMode.UserWrite);
        }
    }
}
