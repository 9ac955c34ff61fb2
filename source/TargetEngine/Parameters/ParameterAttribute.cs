namespace TargetEngine;

/// <summary>
/// Marks a field or property of the build as a parameter, e.g. <c>[Parameter("Target environment")] readonly string TargetEnv = "local";</c>.
/// The initializer is the default. Values come from the command line (<c>--target-env prod</c>), then the environment
/// (<c>TargetEnv</c>, <c>TARGET_ENV</c> or <c>NUKE_TARGET_ENV</c>), then <c>.nuke/parameters.&lt;profile&gt;.json</c>, then <c>.nuke/parameters.json</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class ParameterAttribute(string? description = null) : Attribute
{
    public string? Description => description;

    /// <summary>Renames the parameter; the default is the member name.</summary>
    public string? Name { get; set; }

    /// <summary>False leaves the parameter out of <c>--help</c>.</summary>
    public bool List { get; set; } = true;
}

/// <summary>The parameter's value is never printed: logs, help, plan and errors show <c>***</c> or nothing.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class SecretAttribute : Attribute;
