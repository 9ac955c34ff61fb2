using System.Collections.Concurrent;

namespace PgDeploy.Tests.EndToEnd.Support;

/// <summary>
/// Reads /proc/&lt;pid&gt;/cmdline of every process on the machine every ~20 ms, as any local user could, and keeps each command
/// line that holds the secret. It also notes which programs it saw, so a test can tell that the sampling did catch the
/// build's children (pg_dump, pg_restore) rather than missing them all.
/// </summary>
internal sealed class CommandLineSampler : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private readonly string secret;
    private readonly CancellationTokenSource stop = new();
    private readonly Task sampling;

    private CommandLineSampler(string secret)
    {
        this.secret = secret;
        sampling = Task.Run(SampleAsync);
    }

    /// <summary>The command lines (arguments joined by spaces) that held the secret.</summary>
    public ConcurrentBag<string> Leaks { get; } = [];

    /// <summary>File names of the programs seen running (argv[0] without its directory), e.g. pg_dump.</summary>
    public ConcurrentDictionary<string, int> ProgramsSeen { get; } = new();

    public int Rounds { get; private set; }

    public static CommandLineSampler Start(string secret) => new(secret);

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await sampling;
        stop.Dispose();
    }

    private async Task SampleAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(directory), out _))
                {
                    continue;
                }

                string[] arguments;
                try
                {
                    arguments = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    continue; // The process ended between the listing and the read.
                }

                if (arguments.Length == 0)
                {
                    continue;
                }

                ProgramsSeen.AddOrUpdate(Path.GetFileName(arguments[0]), 1, (_, count) => count + 1);
                var commandLine = string.Join(' ', arguments);
                if (commandLine.Contains(secret, StringComparison.Ordinal))
                {
                    Leaks.Add(commandLine);
                }
            }

            Rounds++;
            try
            {
                await Task.Delay(Interval, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
