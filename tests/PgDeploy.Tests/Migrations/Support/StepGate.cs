using System.Collections.Concurrent;

namespace PgDeploy.Tests.Migrations.Support;

/// <summary>
/// Lets a test hold a C# step in the middle of its work (transaction open, deployment lock held) until it opens the gate.
/// One gate per database, so steps of concurrent tests never share one.
/// </summary>
internal sealed class StepGate
{
    private static readonly ConcurrentDictionary<string, StepGate> Gates = new();
    private static readonly TimeSpan LongestHold = TimeSpan.FromMinutes(2);

    private readonly TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim opened = new(0);

    public static StepGate For(string database) => Gates.GetOrAdd(database, _ => new StepGate());

    /// <summary>Completes when a step waits at the gate.</summary>
    public Task Reached => reached.Task;

    public async Task PassAsync(CancellationToken cancellationToken)
    {
        reached.TrySetResult();
        // A test that fails before opening the gate must not leave the deployment hanging for ever.
        if (!await opened.WaitAsync(LongestHold, cancellationToken))
        {
            throw new TimeoutException($"The test did not open the step gate within {LongestHold}.");
        }
    }

    public void Open() => opened.Release();
}
