using System.Diagnostics;

namespace SchoolApi.Tests.Support;

/// samples/SchoolApi/school-api.sh run as the deployment tool runs a hook: `sh -c "<command>"` in the repository root,
/// with its own state directory and address. Disposing stops whatever it started, even when the test failed.
sealed class ControlScript : IDisposable
{
    static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    readonly string schoolDb;

    public ControlScript(string schoolDb)
    {
        this.schoolDb = schoolDb;
        StateDirectory = Directory.CreateTempSubdirectory("school-api-state-").FullName;
        Url = $"http://127.0.0.1:{ApiProcess.FreePort()}";
    }

    public string StateDirectory { get; }

    public string Url { get; }

    public string PidFile => Path.Combine(StateDirectory, "school-api.pid");

    /// Runs `samples/SchoolApi/school-api.sh <arguments>`; stdout and stderr together.
    public async Task<(int ExitCode, string Output)> RunAsync(string arguments)
    {
        var startInfo = new ProcessStartInfo("sh")
        {
            ArgumentList = { "-c", $"samples/SchoolApi/school-api.sh {arguments}" },
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        ApiProcess.Isolate(startInfo.Environment);
        startInfo.Environment["SCHOOL_DB"] = schoolDb;
        startInfo.Environment["SCHOOL_API_STATE"] = StateDirectory;
        startInfo.Environment["SCHOOL_API_URL"] = Url;
        startInfo.Environment["SCHOOL_API_DLL"] = Repository.ApiDll;

        using var process = Process.Start(startInfo)!;
        // Reading to the end also proves the started API does not hold the hook's output open.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(CommandTimeout);
        try
        {
            await Task.WhenAll(stdout, stderr).WaitAsync(cancellation.Token);
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"school-api.sh {arguments} did not end within {CommandTimeout}.");
        }

        return (process.ExitCode, (await stdout + await stderr).TrimEnd());
    }

    /// True while the process runs; an exited process that nobody reaped yet (a zombie) has stopped.
    public static bool IsRunning(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat))
            return false;
        try
        {
            var text = File.ReadAllText(stat);
            return text[(text.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        // Only the API this test started: the pid must still be a SchoolApi process.
        if (File.Exists(PidFile) && int.TryParse(File.ReadAllText(PidFile).Trim(), out var pid) && IsRunning(pid)
            && File.ReadAllText($"/proc/{pid}/cmdline").Contains("SchoolApi", StringComparison.Ordinal))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        Directory.Delete(StateDirectory, recursive: true);
    }
}
