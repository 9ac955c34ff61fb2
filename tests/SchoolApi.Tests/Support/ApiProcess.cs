using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SchoolApi.Tests.Support;

/// The API as a real process: `dotnet SchoolApi.dll --app-version X --urls http://127.0.0.1:<free port>` with SCHOOL_DB
/// in its environment only. Disposing kills it if it still runs, so a failed test leaves no process behind.
sealed class ApiProcess : IAsyncDisposable
{
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    readonly Process process;
    readonly StringBuilder output = new();
    bool disposed;

    ApiProcess(string appVersion, string schoolDb)
    {
        BaseUrl = $"http://127.0.0.1:{FreePort()}";
        var startInfo = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Repository.ApiDll, "--app-version", appVersion, "--urls", BaseUrl },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Isolate(startInfo.Environment);
        startInfo.Environment["SCHOOL_DB"] = schoolDb;
        process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, line) => Append(line.Data);
        process.ErrorDataReceived += (_, line) => Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string BaseUrl { get; }

    public HttpClient Http { get; }

    public int Pid => process.Id;

    /// Everything it wrote to stdout and stderr so far.
    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    /// Starts the API and waits until /health answers 200; throws with its output if it exits or never gets there.
    public static async Task<ApiProcess> StartAsync(string appVersion, string schoolDb)
    {
        var api = new ApiProcess(appVersion, schoolDb);
        try
        {
            var deadline = DateTime.UtcNow + StartTimeout;
            while (true)
            {
                if (api.process.HasExited)
                    throw new InvalidOperationException($"The {appVersion} API exited with code {api.process.ExitCode} during start:\n{api.Output}");
                try
                {
                    using var response = await api.Http.GetAsync("/health");
                    if (response.StatusCode == HttpStatusCode.OK)
                        return api;
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"The {appVersion} API did not answer /health with 200 within {StartTimeout}:\n{api.Output}");
                await Task.Delay(100);
            }
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }
    }

    /// Runs the API until it exits by itself, as when it refuses to start; kills it if it is still running at the timeout.
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(string appVersion, string schoolDb, TimeSpan? timeout = null)
    {
        await using var api = new ApiProcess(appVersion, schoolDb);
        using var cancellation = new CancellationTokenSource(timeout ?? StartTimeout);
        try
        {
            await api.process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The {appVersion} API was expected to exit but still ran after {timeout ?? StartTimeout}:\n{api.Output}");
        }

        return (api.process.ExitCode, api.Output.TrimEnd());
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed)
            return;
        disposed = true;
        Http.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    /// Nothing from the test host's environment may choose the API's database, version or address.
    public static void Isolate(IDictionary<string, string?> environment)
    {
        foreach (var name in environment.Keys.Where(name => name.StartsWith("SCHOOL_", StringComparison.Ordinal) || name.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList())
            environment.Remove(name);
        // No debugger pipes or diagnostic socket: a killed process cannot clean them up.
        environment["DOTNET_EnableDiagnostics"] = "0";
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    void Append(string? line)
    {
        if (line is null)
            return;
        lock (output)
            output.AppendLine(line);
    }
}
