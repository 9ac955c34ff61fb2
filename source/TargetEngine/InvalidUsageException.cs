namespace TargetEngine;

/// <summary>Invalid usage or configuration found before any target ran (exit code 2).</summary>
internal sealed class InvalidUsageException(params string[] errors) : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<string> Errors => errors;
}
