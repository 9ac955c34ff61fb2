namespace PgDeploy.Tests.Postgres;

/// <summary>Whether a process still runs, read from /proc; a zombie counts as gone because it has already exited.</summary>
internal static class ProcessState
{
    public static bool IsAlive(int pid)
    {
        var statFile = $"/proc/{pid}/stat";
        if (!File.Exists(statFile))
        {
            return false;
        }

        var stat = File.ReadAllText(statFile);
        var state = stat[(stat.LastIndexOf(')') + 1)..].TrimStart()[0];
        return state is not ('Z' or 'X');
    }

    public static int PostmasterPid(string dataDirectory) =>
        int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First());
}
