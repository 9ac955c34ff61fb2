using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace TargetEngine;

/// <summary>
/// A live progress bar for one piece of long work on an interactive terminal. It appears only once the work has run for a moment,
/// so that quick work leaves no trace, and disappears when the work ends. While it shows, the build's console log lines are written
/// above it through Spectre (see <see cref="TryWriteAbove"/>), so the two never garble each other. One shows at a time.
/// </summary>
public sealed class ProgressBar : IDisposable
{
    static readonly TimeSpan ShowAfter = TimeSpan.FromSeconds(1);
    static readonly Lock Gate = new();
    static ProgressBar? current;

    readonly string description;
    readonly long? total;
    readonly bool totalIsEstimate;
    readonly Func<long, string> formatAmount;
    readonly long started = Stopwatch.GetTimestamp();
    readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    ProgressTask? task;
    Task? display;
    bool visible;
    int shown;
    long done;

    ProgressBar(string description, long? total, bool totalIsEstimate, Func<long, string> formatAmount)
    {
        this.description = description;
        this.total = total;
        this.totalIsEstimate = totalIsEstimate;
        this.formatAmount = formatAmount;
    }

    /// <summary>Null when a bar already shows: Spectre draws one live display at a time.</summary>
    internal static ProgressBar? TryStart(string description, long? total, bool totalIsEstimate, Func<long, string> formatAmount)
    {
        lock (Gate)
            return current is null ? current = new ProgressBar(description, total, totalIsEstimate, formatAmount) : null;
    }

    /// <summary>How much is done, in the unit <c>formatAmount</c> reads; safe to call from any thread, as often as the work likes.</summary>
    public void Update(long done)
    {
        Interlocked.Exchange(ref this.done, done);
        if (Volatile.Read(ref shown) == 0 && Stopwatch.GetElapsedTime(started) >= ShowAfter && Interlocked.Exchange(ref shown, 1) == 0)
            Show();
        if (task is { } showing)
            showing.Value = BarValue(done);
    }

    /// <summary>Ends the bar; it disappears, and log lines go straight to the console again.</summary>
    public void Dispose()
    {
        finished.TrySetResult();
        try
        {
            // The live display must be gone before log lines stop going through it.
            display?.GetAwaiter().GetResult();
        }
        catch (Exception exception)
        {
            // A bar that could not be drawn is no reason to fail the work it watched.
            Serilog.Log.Debug("The progress bar of {Description} failed: {Reason}", description, exception.Message);
        }

        lock (Gate)
        {
            visible = false;
            if (current == this)
                current = null;
        }
    }

    /// <summary>Writes a rendered log line above the live bar; false when none shows, and the line goes to the console as usual.</summary>
    internal static bool TryWriteAbove(string line, Style style)
    {
        lock (Gate)
        {
            if (current is not { visible: true })
                return false;
            AnsiConsole.Write(new Text(line, style));
            return true;
        }
    }

    void Show()
    {
        lock (Gate)
            visible = true;
        List<ProgressColumn> columns = total is null
            ? [new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new AmountColumn(this)]
            : [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new AmountColumn(this)];
        display = AnsiConsole.Progress().AutoClear(true).Columns([.. columns]).StartAsync(async context =>
        {
            var added = context.AddTask(Markup.Escape(description), maxValue: Math.Max(total ?? 1, 1));
            added.IsIndeterminate = total is null;
            added.Value = BarValue(Interlocked.Read(ref done));
            task = added;
            await finished.Task;
        });
    }

    // An estimated total can be passed before the work ends; the bar waits just short of full until then.
    double BarValue(long amount) => total is { } max ? Math.Min(amount, totalIsEstimate ? max * 0.99 : max) : 0;

    /// "12.3 MB of about 40.0 MB, 4.1 MB/s, about 00:00:07 left": the amounts as the work counts them, and its average rate since it began.
    sealed class AmountColumn(ProgressBar bar) : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            var done = Interlocked.Read(ref bar.done);
            var rate = done / Math.Max(Stopwatch.GetElapsedTime(bar.started).TotalSeconds, 0.001);
            var text = $"{bar.formatAmount(done)}";
            if (bar.total is { } max)
                text += $" of {(bar.totalIsEstimate ? "about " : "")}{bar.formatAmount(max)}";
            text += $", {bar.formatAmount((long)rate)}/s";
            if (bar.total is { } total && done < total && rate > 0)
                text += $", about {TimeSpan.FromSeconds(Math.Ceiling((total - done) / rate)):hh\\:mm\\:ss} left";
            return new Text(text);
        }
    }
}
