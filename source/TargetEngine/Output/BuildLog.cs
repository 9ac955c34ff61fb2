using System.Collections.Concurrent;
using Serilog;
using Serilog.Context;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Sinks.SystemConsole.Themes;
using TargetEngine.Cli;

namespace TargetEngine.Output;

/// <summary>Configures the static Serilog logger for one run: console or output writer, file logs, CI annotations, and the warnings recap.</summary>
internal sealed class BuildLog(TextWriter output, Verbosity verbosity, BuildHost host) : IDisposable
{
    const string ConsoleTemplate = "{Timestamp:HH:mm:ss} [{Level:u3}] {Message:lj}{NewLine}";
    const string FileTemplate = "{Timestamp:HH:mm:ss.fff} | {Level:u1} | {ExecutingTarget,-20} | {Message:lj}{NewLine}{Exception}";
    const string TargetProperty = "ExecutingTarget";
    const int KeptLogFiles = 5;
    static readonly MessageTemplateTextFormatter MessageFormatter = new("{Message:lj}");

    readonly ConcurrentQueue<LogEvent> problems = new();
    Logger? console;

    public IReadOnlyList<string> Problems =>
        [.. problems.Select(x => $"[{(x.Level == LogEventLevel.Warning ? "WRN" : x.Level == LogEventLevel.Error ? "ERR" : "FTL")}] {TargetPrefix(x)}{Render(x)}")];

    public static BuildLog Start(TextWriter output, bool toConsole, Verbosity verbosity, BuildHost host, AbsolutePath? logDirectory)
    {
        var log = new BuildLog(output, verbosity, host);
        var consoleTemplate = ConsoleTemplate + (verbosity == Verbosity.Verbose ? "{Exception}" : "");
        var consoleFormatter = new MessageTemplateTextFormatter(consoleTemplate);
        // The console tells a person one line per step; the file logs keep every detail (Debug and Verbose) whatever the verbosity.
        var level = verbosity switch
        {
            Verbosity.Quiet => LogEventLevel.Error,
            Verbosity.Minimal => LogEventLevel.Warning,
            Verbosity.Normal => LogEventLevel.Information,
            _ => LogEventLevel.Verbose,
        };

        var configuration = new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .Enrich.FromLogContext()
            .WriteTo.Sink(new EventSink(log.problems.Enqueue), LogEventLevel.Warning);
        if (toConsole)
        {
            var console = log.console = new LoggerConfiguration().MinimumLevel.Verbose()
                .WriteTo.Console(outputTemplate: consoleTemplate, theme: Console.IsOutputRedirected ? ConsoleTheme.None : AnsiConsoleTheme.Code)
                .CreateLogger();
            // While a progress bar shows, a line written straight to the console would be drawn over by it: it goes above the bar instead.
            configuration.WriteTo.Sink(new EventSink(x =>
            {
                if (!ProgressBar.TryWriteAbove(Render(consoleFormatter, x), LineStyle(x.Level)))
                    console.Write(x);
            }), level);
        }
        else
            configuration.WriteTo.Sink(new EventSink(x => consoleFormatter.Format(x, output)), level);
        if (host == BuildHost.GitHubActions)
            configuration.WriteTo.Sink(new EventSink(x => output.WriteLine(Annotation(x))), LogEventLevel.Warning);
        if (logDirectory is not null)
        {
            foreach (var file in new[] { "build.log", $"build.{DateTime.Now:yyyy-MM-dd_HH-mm-ss}.log" }.Select(x => logDirectory / x))
            {
                File.Delete(file);
                configuration.WriteTo.File(file, outputTemplate: FileTemplate);
            }
        }

        Log.Logger = configuration.CreateLogger();
        if (logDirectory is not null)
            DeleteOldLogFiles(logDirectory);
        return log;
    }

    /// <summary>NUKE's target header, or a collapsible group on GitHub Actions; log events inside carry the target name.</summary>
    public IDisposable BeginTarget(string name)
    {
        var property = LogContext.PushProperty(TargetProperty, name);
        if (host == BuildHost.GitHubActions)
            output.WriteLine($"::group::{name}");
        else if (verbosity >= Verbosity.Normal)
            output.Write($"\n╬{new string('═', name.Length + 5)}\n║ {name}\n╬{new string('═', Math.Max(name.Length - 4, 2))}\n\n");

        return new Disposable(() =>
        {
            if (host == BuildHost.GitHubActions)
                output.WriteLine("::endgroup::");
            property.Dispose();
        });
    }

    public void Dispose()
    {
        Log.CloseAndFlush();
        console?.Dispose();
    }

    static void DeleteOldLogFiles(AbsolutePath directory)
    {
        var files = Directory.GetFiles(directory, "build.*.log").Where(x => Path.GetFileName(x) != "build.log");
        foreach (var file in files.OrderDescending(StringComparer.Ordinal).Skip(KeptLogFiles))
            File.Delete(file);
    }

    static string Annotation(LogEvent logEvent) =>
        $"::{(logEvent.Level == LogEventLevel.Warning ? "warning" : "error")}::" +
        $"{TargetPrefix(logEvent)}{Render(logEvent)}".Replace("%", "%25").Replace("\r", "%0D").Replace("\n", "%0A");

    static string TargetPrefix(LogEvent logEvent) =>
        logEvent.Properties.GetValueOrDefault(TargetProperty) is ScalarValue { Value: string target } ? $"{target}: " : "";

    static string Render(LogEvent logEvent) => Render(MessageFormatter, logEvent);

    static string Render(MessageTemplateTextFormatter formatter, LogEvent logEvent)
    {
        using var writer = new StringWriter();
        formatter.Format(logEvent, writer);
        return writer.ToString();
    }

    static Spectre.Console.Style LineStyle(LogEventLevel level) => level switch
    {
        LogEventLevel.Warning => new(Spectre.Console.Color.Yellow),
        >= LogEventLevel.Error => new(Spectre.Console.Color.Red),
        _ => Spectre.Console.Style.Plain,
    };

    sealed class EventSink(Action<LogEvent> emit) : ILogEventSink
    {
        public void Emit(LogEvent logEvent) => emit(logEvent);
    }
}
