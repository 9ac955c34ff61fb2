using System.Globalization;
using Serilog;
using Serilog.Events;

namespace PgDeploy.Progress;

/// <summary>
/// Progress as log lines, for CI logs and runs without a terminal: a line every <c>interval</c> (how far, the rate, the time
/// left), and one at the end with the total and the rate. Work that ends within one interval is no news for the console, so its
/// end line goes to the log file only (Debug).
/// </summary>
/// <param name="periodicLevel">Information by default; Debug when a progress bar already shows the same on the console.</param>
/// <param name="log">Serilog's static logger when null, looked up at each line, so that a logger set later is used.</param>
/// <param name="time">The clock; tests move it by hand.</param>
public sealed class LoggedProgress(
    TimeSpan? interval = null, LogEventLevel periodicLevel = LogEventLevel.Information, ILogger? log = null, TimeProvider? time = null) : IWorkProgress
{
    readonly TimeSpan interval = interval ?? TimeSpan.FromSeconds(5);
    readonly TimeProvider time = time ?? TimeProvider.System;
    readonly LogEventLevel periodicLevel = periodicLevel;

    public IWorkReport Begin(LongWork work) => new Report(this, work);

    ILogger Log => log ?? Serilog.Log.Logger;

    sealed class Report(LoggedProgress owner, LongWork work) : IWorkReport
    {
        readonly long started = owner.time.GetTimestamp();
        TimeSpan lastLine;
        long done;
        bool completed, ended;

        TimeSpan Elapsed => owner.time.GetElapsedTime(started);

        void IWorkReport.Report(long done)
        {
            this.done = done;
            var elapsed = Elapsed;
            if (elapsed - lastLine < owner.interval)
                return;
            lastLine = elapsed;
            var rate = Rate(done, elapsed);
            if (work.Total is not { } total)
            {
                owner.Log.Write(owner.periodicLevel, "{What}: {Done} so far, {Rate}", work.What, Amount(done), Speed(rate));
                return;
            }

            // An estimated total may be passed before the end: the percentage stays below 100 until the work says it is complete.
            var percent = Math.Min(100.0 * done / Math.Max(total, 1), work.TotalIsEstimate ? 99 : 100);
            var remaining = rate > 0 && done < total ? $", about {TimeSpan.FromSeconds(Math.Ceiling((total - done) / rate)):hh\\:mm\\:ss} left" : "";
            owner.Log.Write(owner.periodicLevel, "{What}: {Done} of {About}{Total} ({Percent:0}%), {Rate}{Remaining}",
                work.What, AmountOfTotal(done), work.TotalIsEstimate ? "about " : "", Amount(total), percent, Speed(rate), remaining);
        }

        public void Complete() => completed = true;

        public void Dispose()
        {
            if (ended)
                return;
            ended = true;
            var elapsed = Elapsed;
            var level = elapsed >= owner.interval ? LogEventLevel.Information : LogEventLevel.Debug;
            if (completed)
                owner.Log.Write(level, "{What}: {Done} in {Elapsed:0.0} s ({Rate})", work.What, Amount(done), elapsed.TotalSeconds, Speed(Rate(done, elapsed)));
            else
                owner.Log.Write(level, "{What}: stopped after {Done}{OfTotal} in {Elapsed:0.0} s", work.What, work.Total is null ? Amount(done) : AmountOfTotal(done),
                    work.Total is { } total ? $" of {(work.TotalIsEstimate ? "about " : "")}{Amount(total)}" : "", elapsed.TotalSeconds);
        }

        static double Rate(long done, TimeSpan elapsed) => done / Math.Max(elapsed.TotalSeconds, 0.001);

        string Amount(long amount) => WorkAmount.Format(amount, work.Unit);

        /// "160 of 1,000 rows", "3.0 MB of 10.0 MB": a count's unit is said once.
        string AmountOfTotal(long amount) => work.Unit == WorkUnit.Rows ? amount.ToString("N0", CultureInfo.InvariantCulture) : Amount(amount);

        string Speed(double rate) => $"{WorkAmount.Format((long)rate, work.Unit)}/s";
    }
}

/// How an amount of work reads in a log line: "1,234 rows", "12.3 MB".
public static class WorkAmount
{
    static readonly string[] ByteUnits = ["bytes", "KB", "MB", "GB", "TB"];

    public static string Format(long amount, WorkUnit unit)
    {
        if (unit == WorkUnit.Rows)
            return amount.ToString("N0", CultureInfo.InvariantCulture) + " rows";
        var value = (double)amount;
        var index = 0;
        for (; value >= 1024 && index < ByteUnits.Length - 1; index++)
            value /= 1024;
        return index == 0 ? $"{amount} bytes" : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + ByteUnits[index];
    }
}
