using System.Runtime.InteropServices;
using Serilog;

namespace TargetEngine;

/// <summary>Cancels the running target once; afterwards (assured and failure-triggered targets) further requests are only logged.</summary>
internal sealed class AbortSignal
{
    readonly CancellationTokenSource source = new();
    volatile bool shielded;

    public bool IsRequested => source.IsCancellationRequested;
    public CancellationToken Token => shielded ? CancellationToken.None : source.Token;

    public void Shield() => shielded = true;

    public void Request()
    {
        if (shielded)
        {
            Log.Warning("Abort requested: assured and failure-triggered targets will not be interrupted.");
            return;
        }

        Log.Warning("Abort requested: cancelling the running target.");
        source.Cancel();
    }

    public IDisposable ListenToSignals()
    {
        ConsoleCancelEventHandler onCancelKeyPress = (_, e) =>
        {
            e.Cancel = true;
            Request();
        };
        Console.CancelKeyPress += onCancelKeyPress;
        var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            Request();
        });
        return new Disposable(() =>
        {
            Console.CancelKeyPress -= onCancelKeyPress;
            sigterm.Dispose();
        });
    }
}

internal sealed class Disposable(Action dispose) : IDisposable
{
    public void Dispose() => dispose();
}
