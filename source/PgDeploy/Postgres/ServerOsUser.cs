using CliWrap.Buffered;

namespace PgDeploy.Postgres;

/// <summary>initdb and postgres refuse to run as root, so a root process runs them as the 'postgres' OS user and hands it the cluster's files.</summary>
internal static class ServerOsUser
{
    public const string Name = "postgres";

    private static bool MustSwitch => Environment.IsPrivilegedProcess;

    private static string RunUser =>
        new[] { "/usr/sbin/runuser", "/sbin/runuser" }.FirstOrDefault(File.Exists) ?? "runuser";

    /// <summary>The command line that runs <paramref name="program"/> as the server user.</summary>
    public static IReadOnlyList<string> CommandLine(string program, IReadOnlyList<string> arguments) =>
        MustSwitch ? [RunUser, "-u", Name, "--", program, .. arguments] : [program, .. arguments];

    public static Task<BufferedCommandResult> RunAsync(
        string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var commandLine = CommandLine(program, arguments);
        return ProcessRunner.RunAsync(commandLine[0], commandLine.Skip(1).ToList(), cancellationToken);
    }

    /// <summary>When running as root: gives <paramref name="paths"/> to the server user and checks it can reach and write <paramref name="clusterDirectory"/>.</summary>
    public static async Task HandOverAsync(string clusterDirectory, IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        if (!MustSwitch)
        {
            return;
        }

        if (!(await ProcessRunner.RunAsync("getent", ["passwd", Name], cancellationToken)).IsSuccess)
        {
            throw new PostgresSetupException(
                $"This process runs as root and initdb/postgres refuse to run as root, so the cluster must run as the '{Name}' OS user, "
                + $"but no such user exists. Create it with `useradd --system --user-group {Name}` (installing postgresql-common does), or run as a non-root user.");
        }

        var chown = await ProcessRunner.RunAsync("chown", [$"{Name}:", .. paths], cancellationToken);
        if (!chown.IsSuccess)
        {
            throw new PostgresSetupException(
                $"Could not give the '{Name}' OS user ownership of {clusterDirectory}: {chown.StandardError.Trim()}. Use a directory on a local file system that root may chown.");
        }

        if (!(await RunAsync("test", ["-w", clusterDirectory, "-a", "-x", clusterDirectory], cancellationToken)).IsSuccess)
        {
            var blocker = await FindUnsearchableAncestorAsync(clusterDirectory, cancellationToken);
            throw new PostgresSetupException(
                $"This process runs as root, so PostgreSQL runs as the '{Name}' OS user (initdb/postgres refuse root), but that user cannot reach {clusterDirectory}"
                + (blocker is null
                    ? " even after it was made its owner. Use a directory on a local file system."
                    : $": it may not enter {blocker}. Put the cluster under a directory it can reach (for example below /tmp), or allow it with `chmod o+x {blocker}`."));
        }
    }

    private static async Task<string?> FindUnsearchableAncestorAsync(string directory, CancellationToken cancellationToken)
    {
        var ancestors = new List<string>();
        for (var current = Path.GetFullPath(directory); current is not null; current = Path.GetDirectoryName(current))
        {
            ancestors.Insert(0, current);
        }

        foreach (var ancestor in ancestors)
        {
            if (!(await RunAsync("test", ["-x", ancestor], cancellationToken)).IsSuccess)
            {
                return ancestor;
            }
        }

        return null;
    }
}
