using System.Globalization;
using Spectre.Console;

namespace TargetEngine.Output;

/// <summary>The end of a run: the Errors &amp; Warnings recap, the target table and the outcome line.</summary>
internal static class Summary
{
    public static void Write(TextWriter output, bool ansi, IReadOnlyList<ExecutableTarget> plan, IReadOnlyList<string> problems, string outcome)
    {
        if (problems.Count > 0)
            output.WriteLine($"\nErrors & Warnings\n{string.Join('\n', problems)}");
        output.WriteLine();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = ansi ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
        });
        if (!ansi)
            console.Profile.Width = 120;
        console.Write(Table(plan, TableBorder.Horizontal, totalAsFooter: true));
        output.WriteLine($"\n{outcome}");
    }

    public static string Markdown(IReadOnlyList<ExecutableTarget> plan, string outcome)
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(writer) });
        console.Profile.Width = 500;
        console.Write(Table(plan, TableBorder.Markdown, totalAsFooter: false));
        return $"{writer}\n{outcome}\n";
    }

    public static string Outcome(int exitCode, IReadOnlyList<ExecutableTarget> plan, DateTime time)
    {
        var date = time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        if (exitCode == 0)
            return $"Build succeeded on {date}.";
        var failed = plan.Where(x => !x.IsFailureTriggered && x.Status is TargetStatus.Failed or TargetStatus.Aborted).Select(Outcome).ToList();
        string[] parts = [.. failed.Count > 0 ? [string.Join(", ", failed)] : Array.Empty<string>(), .. plan.Where(x => x.IsFailureTriggered).Select(Outcome)];
        return $"Build failed on {date}: {(parts.Length > 0 ? string.Join("; ", parts) : $"exit code {exitCode}")}.";
    }

    static string Outcome(ExecutableTarget target) => $"{target.Name} {(target.Status == TargetStatus.NotRun ? "not run" : target.Status.ToString().ToLowerInvariant())}";

    static Table Table(IReadOnlyList<ExecutableTarget> plan, TableBorder border, bool totalAsFooter)
    {
        var rows = plan.Where(x => x.Definition.IsListed || HasRun(x)).ToList();
        var total = Duration(rows.Aggregate(TimeSpan.Zero, (sum, x) => sum + x.Duration));
        var table = new Table().Border(border).AddColumns("Target", "Status").AddColumn(new TableColumn("Duration").RightAligned()).AddColumn("Notes");
        foreach (var target in rows)
        {
            table.AddRow(
                new Text(target.Name),
                new Text(target.Status.ToString(), Color(target.Status)),
                new Text(HasRun(target) ? Duration(target.Duration) : ""),
                new Text(string.Join("; ", target.Notes)));
        }

        if (totalAsFooter)
        {
            table.Columns[0].Footer("Total");
            table.Columns[2].Footer(total);
        }
        else
            table.AddRow("Total", "", total, "");
        return table;
    }

    static bool HasRun(ExecutableTarget target) => target.Status is TargetStatus.Succeeded or TargetStatus.Failed or TargetStatus.Aborted;

    static string Duration(TimeSpan duration) => duration < TimeSpan.FromSeconds(1) ? "< 1sec" : $"{(int)duration.TotalMinutes}:{duration.Seconds:00}";

    static Style Color(TargetStatus status) => status switch
    {
        TargetStatus.Succeeded => new Style(Spectre.Console.Color.Green),
        TargetStatus.Failed => new Style(Spectre.Console.Color.Red),
        TargetStatus.Aborted or TargetStatus.NotRun => new Style(Spectre.Console.Color.Yellow),
        TargetStatus.Skipped => new Style(Spectre.Console.Color.Grey),
        _ => Style.Plain,
    };
}
