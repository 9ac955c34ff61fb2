using PgDeploy.Progress;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace PgDeploy.Tests.Progress;

/// The clock is moved by hand: what is logged depends only on the time that passed, never on how fast the test runs.
public sealed class LoggedProgressTests
{
    readonly ManualClock clock = new();
    readonly Lines lines = new();

    LoggedProgress Progress(LogEventLevel periodicLevel = LogEventLevel.Information) =>
        new(TimeSpan.FromSeconds(5), periodicLevel, new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(lines).CreateLogger(), clock);

    [Fact]
    public void Logs_how_far_the_rate_and_the_time_left_once_per_interval()
    {
        using var report = Progress().Begin(new LongWork("Hash passwords", WorkUnit.Rows, 1000));

        clock.Advance(TimeSpan.FromSeconds(4));
        report.Report(80);
        Assert.Empty(lines.All);

        clock.Advance(TimeSpan.FromSeconds(1));
        report.Report(100);
        clock.Advance(TimeSpan.FromSeconds(2));
        report.Report(140);
        clock.Advance(TimeSpan.FromSeconds(3));
        report.Report(200);

        Assert.Equal(
        [
            "Information: Hash passwords: 100 of 1,000 rows (10%), 20 rows/s, about 00:00:45 left",
            "Information: Hash passwords: 200 of 1,000 rows (20%), 20 rows/s, about 00:00:40 left",
        ], lines.All);
    }

    [Fact]
    public void Ends_with_the_total_and_the_rate_on_the_console_when_the_work_was_long()
    {
        var report = Progress().Begin(new LongWork("Safe harbor dump", WorkUnit.Bytes));
        clock.Advance(TimeSpan.FromSeconds(5));
        report.Report(3 * 1024 * 1024);
        clock.Advance(TimeSpan.FromSeconds(5));
        report.Report(10 * 1024 * 1024);
        report.Complete();
        report.Dispose();
        report.Dispose();

        Assert.Equal(
        [
            "Information: Safe harbor dump: 3.0 MB so far, 614.4 KB/s",
            "Information: Safe harbor dump: 10.0 MB so far, 1.0 MB/s",
            "Information: Safe harbor dump: 10.0 MB in 10.0 s (1.0 MB/s)",
        ], lines.All);
    }

    [Fact]
    public void Quick_work_leaves_its_last_line_to_the_log_file()
    {
        using (var report = Progress().Begin(new LongWork("SHA-256 of the safe harbor", WorkUnit.Bytes, 2048)))
        {
            clock.Advance(TimeSpan.FromSeconds(0.5));
            report.Report(2048);
            report.Complete();
        }

        Assert.Equal(["Debug: SHA-256 of the safe harbor: 2.0 KB in 0.5 s (4.0 KB/s)"], lines.All);
    }

    [Fact]
    public void An_estimated_total_says_about_and_stays_below_100_percent_until_the_work_is_complete()
    {
        var report = Progress().Begin(new LongWork("Restore", WorkUnit.Bytes, 1024 * 1024, TotalIsEstimate: true));
        clock.Advance(TimeSpan.FromSeconds(5));
        report.Report(2 * 1024 * 1024);

        Assert.Equal(["Information: Restore: 2.0 MB of about 1.0 MB (99%), 409.6 KB/s"], lines.All);
    }

    [Fact]
    public void Work_that_ends_without_completing_says_where_it_stopped()
    {
        var report = Progress().Begin(new LongWork("Hash passwords", WorkUnit.Rows, 1000));
        clock.Advance(TimeSpan.FromSeconds(6));
        report.Report(120);
        report.Dispose();

        Assert.Equal("Information: Hash passwords: stopped after 120 of 1,000 rows in 6.0 s", lines.All[^1]);
    }

    [Fact]
    public void Periodic_lines_can_go_to_the_log_file_only_while_a_bar_shows_the_same()
    {
        var report = Progress(periodicLevel: LogEventLevel.Debug).Begin(new LongWork("Hash passwords", WorkUnit.Rows, 1000));
        clock.Advance(TimeSpan.FromSeconds(5));
        report.Report(100);
        report.Complete();
        report.Dispose();

        Assert.Equal(
        [
            "Debug: Hash passwords: 100 of 1,000 rows (10%), 20 rows/s, about 00:00:45 left",
            "Information: Hash passwords: 100 rows in 5.0 s (20 rows/s)",
        ], lines.All);
    }

    sealed class ManualClock : TimeProvider
    {
        long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => ticks;

        public void Advance(TimeSpan by) => ticks += by.Ticks;
    }

    /// As the console shows them: strings without quotes.
    sealed class Lines : ILogEventSink
    {
        static readonly MessageTemplateTextFormatter Formatter = new("{Level}: {Message:lj}");

        public List<string> All { get; } = [];

        public void Emit(LogEvent logEvent)
        {
            using var writer = new StringWriter();
            Formatter.Format(logEvent, writer);
            All.Add(writer.ToString());
        }
    }
}
