using System.Globalization;
using PgDeploy.Environments;
using PgDeploy.Postgres;

namespace PgDeploy.Safety;

/// <summary>Runs pg_restore: to list an archive (which reads its whole table of contents) and to load it into an empty database.</summary>
static class PgRestoreRunner
{
    /// <summary>The archive's table of contents, one entry a line, e.g. "3452; 0 16388 TABLE DATA public accounts app".</summary>
    public static async Task<IReadOnlyList<string>> ListAsync(
        ClientTool pgRestore, string dumpPath, DumpFormat format, string fix, CancellationToken cancellationToken)
    {
        var listing = await ClientToolRunner.RunAsync(
            pgRestore, ["--list", $"--format={PgDumpRunner.FormatName(format)}", dumpPath], null, $"reading the dump {dumpPath}", fix, cancellationToken);
        return listing.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith(';'))
            .ToList();
    }

    /// <summary>Loads the archive into the connection's database, stopping at the first error (never "errors ignored on restore").</summary>
    public static Task RestoreAsync(
        ClientTool pgRestore, LibpqEnvironment target, string dumpPath, DumpFormat format, int jobs, CancellationToken cancellationToken) =>
        ClientToolRunner.RunAsync(
            pgRestore,
            [
                "--exit-on-error",
                $"--jobs={Math.Max(1, jobs).ToString(CultureInfo.InvariantCulture)}",
                $"--format={PgDumpRunner.FormatName(format)}",
                // A bare name that contains '=' would be read as a connection string; a quoted dbname keyword never is.
                $"--dbname=dbname='{target.Database.Replace("\\", "\\\\").Replace("'", "\\'")}'",
                dumpPath,
            ],
            target, $"restoring {dumpPath} into database '{target.Database}'", fix: "", cancellationToken);
}
