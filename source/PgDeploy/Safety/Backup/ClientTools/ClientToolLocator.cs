using PgDeploy.Postgres;

namespace PgDeploy.Safety;

/// <summary>
/// Finds pg_dump and pg_restore new enough for the job. pg_dump refuses a server of a newer major, and pg_restore cannot
/// read an archive written by a newer pg_dump; both are caught here, before anything is dumped or changed.
/// </summary>
static class ClientToolLocator
{
    /// <param name="directory">Take the tool from this directory only: the operator's choice, or pg_dump's own directory so that
    /// pg_restore comes from the same installation. Without it, the newest installed copy.</param>
    /// <param name="minimumMajorVersion">The server's major, or the major of the pg_dump that wrote the archive.</param>
    /// <param name="task">What a too-old tool cannot do, for the message: "dump a PostgreSQL 15 server".</param>
    public static async Task<ClientTool> FindAsync(
        string name, string? directory, int minimumMajorVersion, string task, CancellationToken cancellationToken)
    {
        var tool = directory is null
            ? await PostgresBinaries.FindClientToolAsync(name, cancellationToken: cancellationToken)
            : await FromDirectoryAsync(name, directory, minimumMajorVersion, cancellationToken);
        if (tool.MajorVersion < minimumMajorVersion)
        {
            throw new DeploymentException(
                $"{name} {tool.MajorVersion} ({tool.Path}) cannot {task}: pg_dump and pg_restore must be of the server's major version or newer. "
                + $"Install the client of the server's version: {InstallHint(minimumMajorVersion)} and run again; nothing was changed.");
        }

        return tool;
    }

    static async Task<ClientTool> FromDirectoryAsync(string name, string directory, int minimumMajorVersion, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, name);
        if (!File.Exists(path))
        {
            throw new DeploymentException(
                $"There is no {name} in {directory}, where the PostgreSQL client tools were looked for. Install them there "
                + $"({InstallHint(minimumMajorVersion)}) or name the directory that holds pg_dump and pg_restore; nothing was changed.");
        }

        var unversioned = new ClientTool(name, path, 0);
        var version = await ClientToolRunner.ReadVersionAsync(unversioned, cancellationToken);
        return PostgresBinaries.ParseMajorVersion(version) is { } major
            ? unversioned with { MajorVersion = major }
            : throw new DeploymentException(
                $"{path} does not report a PostgreSQL version (its --version printed \"{version}\"), so it cannot be trusted to dump or restore. "
                + $"Point to the bin directory of a PostgreSQL client installation ({InstallHint(minimumMajorVersion)}); nothing was changed.");
    }

    static string InstallHint(int major) =>
        $"apt-get install postgresql-client-{major} (Debian/Ubuntu, from apt.postgresql.org for newer majors)";
}
