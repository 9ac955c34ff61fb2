using System.Runtime.InteropServices;

namespace PgDeploy.Safety;

/// <summary>
/// Whether a file belongs to the user this process runs as, which .NET cannot tell. On Linux it asks statx(2), whose result
/// has the same layout on every architecture (stat's does not); elsewhere the owner is unknown and never taken for this user.
/// </summary>
static class UnixOwner
{
    const int CurrentDirectory = -100; // AT_FDCWD; the paths given are absolute anyway.
    const uint UidWanted = 0x8; // STATX_UID
    const int UidOffset = 20; // struct statx: stx_mask, stx_blksize (u32), stx_attributes (u64), stx_nlink (u32), stx_uid (u32)
    const int StatxSize = 256;

    public static bool IsCurrentUser(string path) => OwnerOf(path) is { } owner && owner == geteuid();

    static uint? OwnerOf(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var buffer = new byte[StatxSize];
        try
        {
            return statx(CurrentDirectory, path, 0, UidWanted, buffer) == 0 && (BitConverter.ToUInt32(buffer, 0) & UidWanted) != 0
                ? BitConverter.ToUInt32(buffer, UidOffset)
                : null;
        }
        catch (EntryPointNotFoundException)
        {
            // glibc before 2.28 has no statx wrapper.
            return null;
        }
    }

    [DllImport("libc")]
    static extern int statx(int directoryFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);

    [DllImport("libc")]
    static extern uint geteuid();
}
