using Dapper;
using Npgsql;
using PgDeploy.Postgres;

namespace PgDeploy.Safety;

public static class DiskSpace
{
    /// The database's size is the estimate: a compressed dump is usually smaller, never much larger. The directory
    /// is also written to, so that a read-only mount or a missing permission is found before the fence goes up.
    public static async Task<string> CheckRoomForBackupAsync(string connectionString, string backupDirectory, CancellationToken cancellationToken)
    {
        // Not pooled: an idle pooled session would stay on the database, and a clone of it needs it to itself.
        await using var connection = await SafetyConnection.OpenAsync(connectionString, null, cancellationToken);
        var size = await DatabaseAdmin.SizeAsync(connection, cancellationToken: cancellationToken);
        CheckWritable(backupDirectory);
        var free = new DriveInfo(Path.GetFullPath(backupDirectory)).AvailableFreeSpace;
        if (free < size)
            throw new DeploymentException(
                $"The backup directory {backupDirectory} has {Megabytes(free)} free, but the safe harbor of a {Megabytes(size)} database may need as much. " +
                "Free space there or point the environment's backup.directory at a larger disk.");
        return $"{Megabytes(free)} free for a database of {Megabytes(size)}";
    }

    static void CheckWritable(string backupDirectory)
    {
        BackupDirectoryAccess.Prepare(backupDirectory);
        var probe = Path.Combine(backupDirectory, $".pgdeploy-write-probe-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllBytes(probe, [0]);
            File.Delete(probe);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new DeploymentException(
                $"The backup directory {backupDirectory} cannot be written to ({exception.Message.TrimEnd('.')}), so no safe harbor could be taken. " +
                "Make it writable for this user or point the environment's backup.directory elsewhere.");
        }
    }

    static string Megabytes(long bytes) => $"{bytes / 1024.0 / 1024.0:N0} MiB";
}
