using Dapper;
using Npgsql;

namespace PgDeploy.Safety;

public static class DiskSpace
{
    /// The database's size is the estimate: a compressed dump is usually smaller, never much larger.
    public static async Task<string> CheckRoomForBackupAsync(string connectionString, string backupDirectory, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var size = await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT pg_database_size(current_database())", cancellationToken: cancellationToken));
        Directory.CreateDirectory(backupDirectory);
        var free = new DriveInfo(Path.GetFullPath(backupDirectory)).AvailableFreeSpace;
        if (free < size)
            throw new DeploymentException(
                $"The backup directory {backupDirectory} has {Megabytes(free)} free, but the safe harbor of a {Megabytes(size)} database may need as much. " +
                "Free space there or point the environment's backup.directory at a larger disk.");
        return $"{Megabytes(free)} free for a database of {Megabytes(size)}";
    }

    static string Megabytes(long bytes) => $"{bytes / 1024.0 / 1024.0:N0} MiB";
}
