namespace PgDeploy.Safety.Fence;

/// Whether the fence can hold on a database, and if not, every reason, each with its fix.
public sealed record FenceCheck(string Database, IReadOnlyList<string> Problems)
{
    public bool CanHold => Problems.Count == 0;

    public void ThrowIfCannotHold()
    {
        if (!CanHold)
            throw new DeploymentException(
                $"The write fence cannot hold on database '{Database}': {string.Join("; ", Problems)}. Nothing was changed; fix this and run again.");
    }
}
