/// Back in service: the fence comes down and the new version of the application goes up.
partial class Build
{
    async Task RestartAsync(CancellationToken cancellationToken)
    {
        var lifted = await LiftFenceAsync(cancellationToken);
        DeploymentJournal.FenceLiftedAt ??= DateTimeOffset.UtcNow;
        DeploymentJournal.Record(nameof(Restart), lifted);
        await StartApplicationAsync(cancellationToken);
    }
}
