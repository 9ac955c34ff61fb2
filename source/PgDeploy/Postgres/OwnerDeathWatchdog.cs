using System.Diagnostics;

namespace PgDeploy.Postgres;

/// <summary>
/// A small shell process that stops and deletes a temporary cluster once its owner process is gone. It covers what no
/// in-process handler can: the owner killed by SIGKILL (a test run cancelled or timed out), or by SIGTERM, for which .NET 10 raises no ProcessExit.
/// </summary>
internal sealed class OwnerDeathWatchdog : IDisposable
{
    private const string Script = """
        owner=$1; root=$2; shift 2
        while kill -0 "$owner" 2>/dev/null; do sleep 1; done
        "$@" >/dev/null 2>&1
        rm -rf -- "$root"
        """;

    private readonly Process process;

    private OwnerDeathWatchdog(Process process) => this.process = process;

    public static OwnerDeathWatchdog Start(int ownerPid, string clusterRoot, IReadOnlyList<string> stopCommand)
    {
        // Redirected so the watchdog holds none of the owner's stdio: a test runner waits for those to close.
        var startInfo = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["-c", Script, "pgdeploy-watchdog", ownerPid.ToString(), clusterRoot, .. stopCommand])
        {
            startInfo.ArgumentList.Add(argument);
        }

        return new OwnerDeathWatchdog(Process.Start(startInfo)!);
    }

    public void Dispose()
    {
        process.Kill();
        process.Dispose();
    }
}
