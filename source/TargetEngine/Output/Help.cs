using System.Text;
using TargetEngine.Cli;
using TargetEngine.Parameters;

namespace TargetEngine.Output;

/// <summary>NUKE's <c>--help</c> layout: targets with their direct dependencies, then parameters, then the built-ins.</summary>
internal static class Help
{
    const int LineLimit = 90;

    public static string Text(IReadOnlyList<ExecutableTarget> targets, IReadOnlyList<ParameterMember> parameters)
    {
        var builder = new StringBuilder("Targets (with their direct dependencies):\n\n");
        var targetWidth = Math.Max(20, targets.Select(x => x.Name.Length).DefaultIfEmpty().Max());
        foreach (var target in targets.Where(x => x.Definition.IsListed))
        {
            var entry = target.Name + (target.IsDefault ? " (default)" : "");
            var dependencies = target.ExecutionDependencies.Count > 0 ? $"{entry.PadRight(targetWidth)} -> {string.Join(", ", target.ExecutionDependencies)}" : entry;
            builder.Append($"  {dependencies}\n");
            if (target.Definition.DescriptionText is { } description)
                builder.Append($"    {description}\n");
        }

        var custom = parameters.Where(x => x.IsListed).Select(x => (Name: x.DashedName, Text: Describe(x))).ToList();
        var width = Math.Max(16, custom.Concat(BuildOptions.BuiltIns.Select(x => (x.Name, Text: x.Description))).Max(x => x.Name.Length));
        builder.Append("\nParameters:\n\n");
        custom.ForEach(x => AppendParameter(builder, x.Name, x.Text, width));
        if (custom.Count > 0)
            builder.Append('\n');
        foreach (var (name, description) in BuildOptions.BuiltIns)
            AppendParameter(builder, name, description, width);
        return builder.ToString();
    }

    static string Describe(ParameterMember parameter)
    {
        var text = (parameter.Description ?? "<no description>").TrimEnd('.') + ".";
        if (!parameter.IsSecret && parameter.DefaultValue is not (null or false or "" or Array { Length: 0 }))
            text += $" Default: {parameter.Format(parameter.DefaultValue)}.";
        if (ValueConverter.ElementType(parameter.Type) is { IsEnum: true } enumType)
            text += $" Allowed values: {string.Join(", ", Enum.GetNames(enumType))}.";
        return text;
    }

    static void AppendParameter(StringBuilder builder, string name, string text, int width)
    {
        var indent = width + 6;
        var lines = new List<string> { "" };
        foreach (var word in text.Split(' '))
        {
            if (lines[^1].Length > 0 && indent + lines[^1].Length + 1 + word.Length >= LineLimit)
                lines.Add("");
            lines[^1] = lines[^1].Length == 0 ? word : $"{lines[^1]} {word}";
        }

        builder.Append($"  --{name.PadRight(width)}  {lines[0]}\n");
        lines.Skip(1).ToList().ForEach(x => builder.Append($"{new string(' ', indent)}{x}\n"));
    }
}
