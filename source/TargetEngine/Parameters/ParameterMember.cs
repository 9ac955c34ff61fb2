using System.Reflection;
using System.Text.RegularExpressions;
using TargetEngine.Cli;

namespace TargetEngine.Parameters;

internal sealed partial class ParameterMember(MemberInfo member, ParameterAttribute attribute, Type type, Action<object, object?> setValue, object? defaultValue)
{
    public string Name => attribute.Name ?? member.Name;
    public string MemberName => member.Name;
    public string Declarer => $"{member.DeclaringType!.Name}.{member.Name}";
    public string? Description => attribute.Description;
    public bool IsListed => attribute.List;
    public bool IsSecret { get; } = member.IsDefined(typeof(SecretAttribute));
    public Type Type => type;
    public object? DefaultValue => defaultValue;
    public string DashedName => string.Join("-", Humps().Split(Name)).ToLowerInvariant();
    public string EnvironmentName => DashedName.Replace('-', '_').ToUpperInvariant();

    public bool Matches(string key) => Arguments.Normalize(key) is var normalized
        && (normalized == Arguments.Normalize(Name) || normalized == Arguments.Normalize(member.Name));

    public string Format(object? value) => IsSecret ? "***" : value is Array array ? string.Join(", ", array.Cast<object>()) : $"{value}";

    public void SetValue(BuildBase build, object? value) => setValue(build, value);

    public static IReadOnlyList<ParameterMember> Discover(BuildBase build)
    {
        const BindingFlags flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        var members = new List<ParameterMember>();
        for (var type = build.GetType(); type != typeof(BuildBase); type = type.BaseType!)
        {
            foreach (var member in type.GetFields(flags).Cast<MemberInfo>().Concat(type.GetProperties(flags)))
            {
                if (member.GetCustomAttribute<ParameterAttribute>() is { } attribute)
                    members.Add(Create(build, member, attribute));
            }
        }

        foreach (var component in ComponentParameter.Components(build.GetType()))
        {
            foreach (var property in component.GetProperties(flags))
            {
                if (property.GetCustomAttribute<ParameterAttribute>() is { } attribute)
                    members.Add(Create(build, property, attribute, (target, value) => ((BuildBase)target).SetComponentParameter(property, value)));
            }
        }

        if (members.GroupBy(x => x.DashedName).FirstOrDefault(x => x.Count() > 1) is { } twice)
            throw new InvalidUsageException($"Parameter --{twice.Key} is declared twice, by {string.Join(" and ", twice.Select(x => x.Declarer))}: rename one with [Parameter(Name = ...)].");
        return [.. members.OrderBy(x => x.Name, StringComparer.OrdinalIgnoreCase)];
    }

    static ParameterMember Create(BuildBase build, MemberInfo member, ParameterAttribute attribute, Action<object, object?>? componentSetter = null)
    {
        var (type, getValue, setValue) = member switch
        {
            FieldInfo field => (field.FieldType, field.GetValue(build), field.SetValue),
            PropertyInfo property => (property.PropertyType, DefaultOf(build, property), componentSetter ?? Setter(property)),
            _ => throw new InvalidOperationException(),
        };
        if (!ValueConverter.IsSupported(type))
            throw new InvalidUsageException($"Parameter {member.Name} has unsupported type {type.Name}.");
        return new(member, attribute, type, setValue, getValue);
    }

    /// A property's default is its getter's value: one that throws is the build's mistake, said as such and not as a crash.
    static object? DefaultOf(BuildBase build, PropertyInfo property)
    {
        try
        {
            return property.GetValue(build);
        }
        catch (TargetInvocationException exception) when (exception.InnerException is { } inner)
        {
            throw new InvalidUsageException(
                $"Parameter {property.DeclaringType!.Name}.{property.Name} has no default: its getter threw {inner.GetType().Name} ({inner.Message}). " +
                "Make the getter return a value without this parameter set.");
        }
    }

    static Action<object, object?> Setter(PropertyInfo property) =>
        property.SetMethod is { } setter ? (build, value) => setter.Invoke(build, [value])
        : property.DeclaringType!.GetField($"<{property.Name}>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic) is { } field ? field.SetValue
        : throw new InvalidUsageException($"Parameter {property.Name} cannot be set: make it a field or an auto-property.");

    [GeneratedRegex("(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")]
    private static partial Regex Humps();
}
