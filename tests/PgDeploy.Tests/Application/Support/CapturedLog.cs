using System.Collections.Concurrent;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace PgDeploy.Tests.Application.Support;

/// <summary>
/// Everything the deployment code logs through Serilog's static Log while it lives, rendered as the console would show
/// it (with any exception). Serilog's logger is one for the whole process: the tests that use this share one class, so
/// that they never replace each other's.
/// </summary>
internal sealed class CapturedLog : ILogEventSink, IDisposable
{
    private readonly ILogger previous = Log.Logger;
    private readonly ConcurrentQueue<string> lines = new();

    public CapturedLog() => Log.Logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(this).CreateLogger();

    public string Text => string.Join(Environment.NewLine, lines);

    public void Emit(LogEvent logEvent) => lines.Enqueue($"{logEvent.Level}: {logEvent.RenderMessage()} {logEvent.Exception}");

    public void Dispose() => Log.Logger = previous;
}
