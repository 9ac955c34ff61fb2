using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PgDeploy.Tests.Application.Support;

/// <summary>
/// A real HTTP server on a port of 127.0.0.1 that the system picked: every request gets the same status and body, as if
/// another process (or the application) answered on that address. It keeps every request it received, body included.
/// </summary>
internal sealed class AnsweringServer : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly int status;
    private readonly string body;
    private readonly Task serving;

    private AnsweringServer(int status, string body)
    {
        (this.status, this.body) = (status, body);
        listener.Start();
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        serving = Task.Run(ServeAsync);
    }

    public string BaseUrl { get; }

    /// <summary>Each request as received: request line, headers and body.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static AnsweringServer Start(int status, string body) => new(status, body);

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        try
        {
            await serving;
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopping the listener ends the pending accept with one of these, or the next one, if it was not pending yet.
        }
    }

    private async Task ServeAsync()
    {
        while (true)
        {
            using var client = await listener.AcceptTcpClientAsync();
            try
            {
                await using var stream = client.GetStream();
                Requests.Enqueue(await ReadRequestAsync(stream));
                var content = Encoding.UTF8.GetBytes(body);
                var head = $"HTTP/1.1 {status} {(HttpStatusCode)status}\r\nContent-Type: application/json\r\nContent-Length: {content.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
                await stream.WriteAsync(content);
            }
            catch (IOException)
            {
                // A client that gave up (a probe's timeout) ends only its own exchange.
            }
        }
    }

    /// <summary>The head up to its blank line, then as many bytes of body as Content-Length says.</summary>
    private static async Task<string> ReadRequestAsync(NetworkStream stream)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        int headEnd;
        while ((headEnd = Encoding.ASCII.GetString([.. received]).IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
                return Encoding.UTF8.GetString([.. received]);
            received.AddRange(buffer[..read]);
        }
        var head = Encoding.ASCII.GetString([.. received])[..headEnd];
        var length = head.Split("\r\n")
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(parts => int.Parse(parts[1].Trim()))
            .FirstOrDefault();
        while (received.Count < headEnd + 4 + length)
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
                break;
            received.AddRange(buffer[..read]);
        }
        return Encoding.UTF8.GetString([.. received]);
    }
}
