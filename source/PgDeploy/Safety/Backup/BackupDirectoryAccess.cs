using Serilog;

namespace PgDeploy.Safety;

/// <summary>
/// Keeps the backup directory to its owner: a safe harbor holds all of the database, the application users' passwords
/// included. A new directory is created 0700. An existing one of this user that its group or others may enter is tightened to
/// 0700. One of another user is left as it is, with a warning: it may be shared on purpose, which is for its owner to decide;
/// the dumps in it are owner-only all the same.
/// </summary>
static class BackupDirectoryAccess
{
    const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static void Prepare(string directory)
    {
        try
        {
            PrepareOwnerOnly(directory);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new DeploymentException(
                $"The backup directory {directory} cannot hold a safe harbor: {exception.Message.TrimEnd('.')}. It must be a directory that the user " +
                "running the deployment may write (backup.directory in the environment's settings); make it one, or point backup.directory elsewhere, and run again.",
                exception);
        }
    }

    static void PrepareOwnerOnly(string directory)
    {
        // On Windows the directory's ACL decides who reads it, as it always did.
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        if (!Directory.Exists(directory))
        {
            // Only the backup directory itself is made owner-only; the parents it needs are created as usual.
            Directory.CreateDirectory(Path.GetDirectoryName(directory)!);
            Directory.CreateDirectory(directory, OwnerOnly);
            return;
        }

        var mode = File.GetUnixFileMode(directory);
        if ((mode & GroupOrOthers) == 0)
        {
            return;
        }

        if (UnixOwner.IsCurrentUser(directory))
        {
            File.SetUnixFileMode(directory, mode & ~GroupOrOthers);
            Log.Information(
                "Made the backup directory {Directory} accessible to its owner only ({Before} to {After}): safe harbors hold all of the database, the application users' passwords included",
                directory, Octal(mode), Octal(mode & ~GroupOrOthers));
            return;
        }

        Log.Warning(
            "The backup directory {Directory} is open to its group or others ({Mode}) and belongs to another user, so this run leaves it as it is; "
            + "the safe harbors in it are readable by their owner only, but others may list them. To close it, run chmod 700 {Directory} as its owner, "
            + "or set backup.directory to a directory of the user that runs the deployments",
            directory, Octal(mode), directory);
    }

    static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');
}
