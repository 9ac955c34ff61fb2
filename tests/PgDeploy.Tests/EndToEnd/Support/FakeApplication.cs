using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PgDeploy.Tests.EndToEnd.Support;

/// <summary>
/// The application's HTTP side as the build sees it after Restart: /health answers 200, and POST /login answers 200 "welcome"
/// only when the posted body holds the expected secret (the smoke check's ${SMOKE_PASSWORD}), else 401. It listens on a free
/// port of 127.0.0.1 and remembers every request.
/// </summary>
internal sealed class FakeApplication : IAsyncDisposable
{
    public const string Welcome = "welcome";

    private readonly HttpListener listener = new();
    private readonly string expectedSecret;
    private readonly Task serving;

    private FakeApplication(string expectedSecret)
    {
        this.expectedSecret = expectedSecret;
        var port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add($"{BaseUrl}/");
        listener.Start();
        serving = Task.Run(ServeAsync);
    }

    public string BaseUrl { get; }

    /// <summary>"METHOD /path body", in the order they came.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static FakeApplication Start(string expectedSecret) => new(expectedSecret);

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        try
        {
            await serving;
        }
        catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException)
        {
            // Stopping the listener ends the pending GetContextAsync with one of these.
        }
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var path = context.Request.Url!.AbsolutePath;
            Requests.Enqueue($"{context.Request.HttpMethod} {path} {body}");
            var (status, text) = (context.Request.HttpMethod, path) switch
            {
                ("GET", "/health") => (200, "healthy"),
                ("POST", "/login") when body.Contains(expectedSecret, StringComparison.Ordinal) => (200, Welcome),
                ("POST", "/login") => (401, "wrong password"),
                _ => (404, "not found"),
            };
            var bytes = Encoding.UTF8.GetBytes(text);
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
