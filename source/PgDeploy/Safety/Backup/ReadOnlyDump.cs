using PgDeploy.Environments;

namespace PgDeploy.Safety;

/// <summary>
/// Keeps a safe harbor to its owner, since it holds all of the database, the application users' passwords included: the dump
/// is created owner-only before pg_dump writes a byte of it, is made read-only once verified (files 0400, a directory dump's
/// directory 0500) so nothing appends to or rewrites it by accident, and is made writable again to be deleted (retention).
/// On Windows only the read-only attribute is set; the directory's ACL decides who reads it.
/// </summary>
static class ReadOnlyDump
{
    const UnixFileMode ReadOnlyFile = UnixFileMode.UserRead;
    const UnixFileMode ReadOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserExecute;

    /// <summary>
    /// An empty file (custom format) or directory (directory format) for pg_dump to write into, owner-only from the start:
    /// pg_dump -Fc keeps the mode of a file it truncates, and pg_dump -Fd fills an existing empty directory, whose files no
    /// one else can reach. Left to itself pg_dump -Fc would create a file everyone may read while it is being written.
    /// </summary>
    public static void CreateEmpty(string path, DumpFormat format)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (format == DumpFormat.Directory)
        {
            Directory.CreateDirectory(path, ReadOnlyDirectory | UnixFileMode.UserWrite);
        }
        else
        {
            new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = ReadOnlyFile | UnixFileMode.UserWrite,
            }).Dispose();
        }
    }

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
