using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace PgDeploy;

/// Durations written as PostgreSQL writes them (500ms, 3s, 15min, 2h, 1d), in script directives and
/// environment settings alike.
public static partial class PostgresDuration
{
    // Unlike PostgreSQL a unit is required, so that "5" cannot silently mean 5 milliseconds.
    public static bool TryParse(string? value, out TimeSpan duration)
    {
        duration = default;
        var match = DurationPattern().Match(value ?? "");
        if (!match.Success || !decimal.TryParse(match.Groups["amount"].Value, CultureInfo.InvariantCulture, out var amount))
            return false;

        var milliseconds = Math.Round(amount * match.Groups["unit"].Value switch
        {
            "ms" => 1,
            "s" => 1_000,
            "min" => 60_000,
            "h" => 3_600_000,
            _ => 86_400_000,
        });
        // The server's timeouts are int milliseconds.
        if (milliseconds > int.MaxValue)
            return false;

        duration = TimeSpan.FromMilliseconds((double)milliseconds);
        return true;
    }

    public static string Format(TimeSpan duration) => $"{(long)duration.TotalMilliseconds}ms";

    [GeneratedRegex(@"^(?<amount>[0-9]{1,10}(\.[0-9]{1,6})?)\s*(?<unit>ms|s|min|h|d)\z", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    public sealed class JsonConverter : JsonConverter<TimeSpan>
    {
        public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            TryParse(reader.GetString(), out var duration)
                ? duration
                : throw new JsonException($"'{reader.GetString()}' is not a duration: write a number and a unit, e.g. 500ms, 3s, 15min, 2h.");

        public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) => writer.WriteStringValue(Format(value));
    }
}
