using System.Globalization;

namespace TargetEngine.Parameters;

internal sealed record ValueSource(string[] Values, string Origin);

internal static class ValueConverter
{
    static readonly Type[] ScalarTypes = [typeof(string), typeof(int), typeof(long), typeof(double), typeof(bool), typeof(TimeSpan), typeof(AbsolutePath)];

    public static bool IsSupported(Type type) =>
        !(type.IsArray && type.GetElementType()!.IsArray) && ElementType(type) is var element && (element.IsEnum || ScalarTypes.Contains(element));

    public static Type ElementType(Type type) => type.IsArray ? ElementType(type.GetElementType()!) : Nullable.GetUnderlyingType(type) ?? type;

    public static object? Convert(Type type, ValueSource source, string parameter, bool secret, AbsolutePath? root)
    {
        var element = ElementType(type);

        InvalidUsageException Error(string problem, string? value = null) =>
            new($"{problem} {(value is null || secret ? "" : $"'{value}' ")}for parameter {parameter} ({source.Origin}): expected {Describe(element)}.");

        object Parse(string value) => ParseScalar(value, element, root) ?? throw Error("Invalid value", value);

        if (type.IsArray)
        {
            var items = source.Values.SelectMany(x => x.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
            var array = Array.CreateInstance(type.GetElementType()!, items.Length);
            for (var i = 0; i < items.Length; i++)
                array.SetValue(Parse(items[i]), i);
            return array;
        }

        return source.Values switch
        {
            [] when element == typeof(bool) => true,
            [] => throw Error("Missing value"),
            [var value] => Parse(value),
            var values => throw Error("Several values", string.Join(" ", values)),
        };
    }

    public static string Describe(Type type) =>
        type.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(type))}"
        : type == typeof(int) || type == typeof(long) ? "a whole number, e.g. 3"
        : type == typeof(double) ? "a number, e.g. 0.5"
        : type == typeof(bool) ? "true or false"
        : type == typeof(TimeSpan) ? "a duration as [d.]hh:mm[:ss], e.g. 00:05:00"
        : type == typeof(AbsolutePath) ? "a path"
        : "text";

    static object? ParseScalar(string value, Type type, AbsolutePath? root)
    {
        if (type.IsEnum)
            return Enum.GetNames(type).FirstOrDefault(x => x.Equals(value, StringComparison.OrdinalIgnoreCase)) is { } name ? Enum.Parse(type, name) : null;
        if (type == typeof(AbsolutePath))
            return value.Length == 0 ? null : root is null ? AbsolutePath.Create(Path.GetFullPath(value)) : root / value;
        if (type == typeof(TimeSpan))
            return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var duration) ? duration : null;
        return Type.GetTypeCode(type) switch
        {
            TypeCode.Int32 => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : null,
            TypeCode.Int64 => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : null,
            TypeCode.Double => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null,
            TypeCode.Boolean => bool.TryParse(value, out var flag) ? flag : null,
            _ => value,
        };
    }
}
