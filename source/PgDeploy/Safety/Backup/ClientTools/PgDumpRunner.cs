using System.Globalization;
using PgDeploy.Environments;
using PgDeploy.Postgres;

namespace PgDeploy.Safety;

/// <summary>Runs pg_dump for a safe harbor: custom or directory format, inside a snapshot exported by the caller.</summary>
static class PgDumpRunner
{
    /// <param name="snapshot">From pg_export_snapshot(): pg_dump sees exactly what the row counts saw.</param>
    /// <param name="lockWaitTimeout">pg_dump locks every table at its start; a table locked by someone else fails the dump
    /// after this long instead of stalling it, and with it every later session queued behind its lock request.</param>
    public static Task DumpAsync(
        ClientTool pgDump, LibpqEnvironment connection, string outputPath, DumpFormat format, int jobs, string snapshot,
        TimeSpan lockWaitTimeout, CancellationToken cancellationToken)
    {
        List<string> arguments =
        [
            $"--format={FormatName(format)}",
            $"--file={outputPath}",
            $"--snapshot={snapshot}",
            $"--lock-wait-timeout={((long)lockWaitTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}",
        ];
        // pg_dump can run jobs in parallel only when it writes a directory.
        if (format == DumpFormat.Directory && jobs > 1)
        {
            arguments.Add($"--jobs={jobs.ToString(CultureInfo.InvariantCulture)}");
        }

        return ClientToolRunner.RunAsync(
            pgDump, arguments, connection, $"dumping database '{connection.Database}'",
            // pg_dump enforces the lock wait as a statement timeout on its LOCK TABLE, so that is what its error names.
            $"If it timed out on LOCK TABLE, a session the maintenance fence missed holds a lock on that table: find it with "
            + $"SELECT pid, usename, application_name, state, query FROM pg_stat_activity WHERE datname = '{connection.Database.Replace("'", "''")}', "
            + "end it with SELECT pg_terminate_backend(pid), and run again; nothing was changed.",
            cancellationToken);
    }

    /// <summary>The name pg_dump and pg_restore use for the format, given explicitly so pg_restore never has to guess.</summary>
    public static string FormatName(DumpFormat format) => format switch
    {
        DumpFormat.Custom => "custom",
        DumpFormat.Directory => "directory",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Safe harbors are custom or directory dumps."),
    };
}
