using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PgDeploy.Bench;

/// <summary>Who a row measures: the tool, the raw PostgreSQL tool it is compared with, or a part of either.</summary>
enum Side { PgDeploy, Raw, Part, Setup }

/// <summary>One measured quantity, each run's value kept; the report gives the median, min and max.</summary>
sealed class Measurement(string label, Side side, string unit, string? note = null)
{
    readonly List<double> values = [];

    public string Label { get; } = label;
    [JsonConverter(typeof(JsonStringEnumConverter))] public Side Side { get; } = side;
    public string Unit { get; } = unit;
    public string? Note { get; set; } = note;
    public IReadOnlyList<double> Values => values;
    public int Runs => values.Count;
    public double Median => Stats.Median(values);
    public double Min => values.Count == 0 ? double.NaN : values.Min();
    public double Max => values.Count == 0 ? double.NaN : values.Max();

    public Measurement Add(double value)
    {
        values.Add(value);
        return this;
    }
}

/// <summary>A figure computed from measurements: a difference, a rate, or an extrapolation (always labelled as such).</summary>
sealed record Derived(string Label, string Value, string Basis);

sealed class FigureResult(string key, string title)
{
    public string Key { get; } = key;
    public string Title { get; } = title;
    public List<string> Setup { get; } = [];
    public List<Measurement> Measurements { get; } = [];
    public List<Derived> Derived { get; } = [];
    public List<string> Notes { get; } = [];
    public double ElapsedSeconds { get; set; }
    public string LoadBefore { get; set; } = "";
    public string LoadAfter { get; set; } = "";
    public string? Error { get; set; }

    public Measurement Measure(string label, Side side, string unit = "s", string? note = null)
    {
        var existing = Measurements.FirstOrDefault(measurement => measurement.Label == label);
        if (existing is not null)
            return existing;
        var measurement = new Measurement(label, side, unit, note);
        Measurements.Add(measurement);
        return measurement;
    }

    public Measurement Get(string label) => Measurements.Single(measurement => measurement.Label == label);

    public void Derive(string label, string value, string basis = "measured") => Derived.Add(new(label, value, basis));
}

sealed class BenchRun
{
    public required string Command { get; init; }
    public required string Arguments { get; init; }
    public required MachineInfo Machine { get; init; }
    public required BenchOptions Options { get; init; }
    public DateTimeOffset StartedUtc { get; } = DateTimeOffset.UtcNow;
    public double ElapsedSeconds { get; set; }
    public List<FigureResult> Figures { get; } = [];
}

static class Stats
{
    /// <summary>
    /// The median of the per-run differences (or ratios) of two measurements taken in the same runs: on a noisy machine this
    /// compares each run with the raw tool's run beside it, rather than two medians that may come from different moments.
    /// </summary>
    public static double Paired(Measurement tool, Measurement raw, Func<double, double, double> compare) =>
        Median(tool.Values.Zip(raw.Values, compare).ToList());

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            return double.NaN;
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}

static class Format
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Number(double value, string unit) => double.IsNaN(value)
        ? "–"
        : unit switch
        {
            "s" => value >= 100 ? value.ToString("0", Invariant) + " s" : value >= 10 ? value.ToString("0.0", Invariant) + " s" : value.ToString("0.00", Invariant) + " s",
            "ms" => value >= 100 ? value.ToString("0", Invariant) + " ms" : value.ToString("0.00", Invariant) + " ms",
            "µs" => value.ToString("0", Invariant) + " µs",
            "MiB" => value.ToString("0", Invariant) + " MiB",
            _ => (value >= 1000 ? value.ToString("N0", Invariant) : value >= 10 ? value.ToString("0.0", Invariant) : value.ToString("0.00", Invariant)) + " " + unit,
        };

    public static string Seconds(double seconds) => Number(seconds, "s");

    public static string Duration(double seconds) => seconds >= 90 ? $"{seconds / 60:0.0} min ({seconds:0} s)" : Seconds(seconds);

    public static string Ratio(double value) => value.ToString("0.00", Invariant) + "×";

    public static string Percent(double value) => (value >= 0 ? "+" : "") + value.ToString("0.0", Invariant) + " %";

    public static string Invariant2(double value) => value.ToString("0.##", Invariant);
}

static class ResultWriter
{
    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static (string Markdown, string Json) Write(BenchRun run, string directory)
    {
        Directory.CreateDirectory(directory);
        var stem = run.StartedUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + (run.Command == "all" ? "" : "-" + run.Command)
                   + (run.Options.Durable ? "-durable" : "");
        var markdownPath = Path.Combine(directory, stem + ".md");
        if (File.Exists(markdownPath))
            stem += run.StartedUtc.ToString("'T'HHmm", CultureInfo.InvariantCulture);
        markdownPath = Path.Combine(directory, stem + ".md");
        var jsonPath = Path.Combine(directory, stem + ".json");
        File.WriteAllText(markdownPath, Markdown(run));
        File.WriteAllText(jsonPath, JsonSerializer.Serialize(run, JsonOptions));
        return (markdownPath, jsonPath);
    }

    public static string Markdown(BenchRun run)
    {
        var text = new StringBuilder();
        text.AppendLine($"# PgDeploy benchmarks, {run.StartedUtc:yyyy-MM-dd HH:mm} UTC");
        text.AppendLine();
        text.AppendLine($"`dotnet PgDeploy.Bench.dll {run.Arguments}`, {Format.Duration(run.ElapsedSeconds)} in all.");
        text.AppendLine();
        text.AppendLine("## Machine");
        text.AppendLine();
        foreach (var (name, value) in run.Machine.Lines())
            text.AppendLine($"- {name}: {value}");
        foreach (var figure in run.Figures)
        {
            text.AppendLine();
            text.AppendLine($"## {figure.Title}");
            text.AppendLine();
            if (figure.Error is { } error)
            {
                text.AppendLine($"**Not measured: {error}**");
                text.AppendLine();
            }
            foreach (var line in figure.Setup)
                text.AppendLine($"- {line}");
            text.AppendLine($"- took {Format.Duration(figure.ElapsedSeconds)}; load average before {figure.LoadBefore}, after {figure.LoadAfter}");
            if (figure.Measurements.Count > 0)
            {
                text.AppendLine();
                text.AppendLine("| measurement | side | median | min | max | runs | note |");
                text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | --- |");
                foreach (var m in figure.Measurements)
                    text.AppendLine($"| {m.Label} | {SideName(m.Side)} | {Format.Number(m.Median, m.Unit)} | {Format.Number(m.Min, m.Unit)} | {Format.Number(m.Max, m.Unit)} | {m.Runs} | {m.Note} |");
            }
            if (figure.Derived.Count > 0)
            {
                text.AppendLine();
                text.AppendLine("| derived figure | value | basis |");
                text.AppendLine("| --- | ---: | --- |");
                foreach (var derived in figure.Derived)
                    text.AppendLine($"| {derived.Label} | {derived.Value} | {derived.Basis} |");
            }
            if (figure.Notes.Count > 0)
            {
                text.AppendLine();
                foreach (var note in figure.Notes)
                    text.AppendLine($"- {note}");
            }
        }
        return text.ToString();
    }

    static string SideName(Side side) => side switch
    {
        Side.PgDeploy => "**pgdeploy**",
        Side.Raw => "raw tool",
        Side.Part => "part",
        _ => "setup",
    };
}
