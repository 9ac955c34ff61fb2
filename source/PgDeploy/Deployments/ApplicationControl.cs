using System.Collections;
using PgDeploy.Application;
using PgDeploy.Environments;
using Serilog;

namespace PgDeploy.Deployments;

/// The application around the database, as the deployment drives it: the environment's stop, start and revert
/// hooks, its health check and the smoke checks a person would otherwise click through.
sealed class ApplicationControl(DeploymentRequest request)
{
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    readonly ApplicationEnvironment environment = new(
        System.Environment.GetEnvironmentVariables().Cast<DictionaryEntry>().ToDictionary(entry => (string)entry.Key, entry => (string?)entry.Value ?? ""),
        request.EnvironmentFiles);

    HookSettings Hooks => request.Settings.Hooks;

    public bool CanRevert => Hooks.Revert is not null;

    public Task StopAsync(DeploymentFacts facts, CancellationToken cancellationToken) => RunHookAsync(HookKind.Stop, Hooks.Stop, facts, cancellationToken);

    /// Starts the new version and proves it works: healthy as that version, and every smoke check passes.
    public async Task<IReadOnlyList<CheckRecord>> StartAsync(DeploymentFacts facts, CancellationToken cancellationToken)
    {
        await RunHookAsync(HookKind.Start, Hooks.Start, facts, cancellationToken);
        if (request.Settings.Health is { } health)
            await new HealthProbe(environment, Http).WaitAsync(health, HookKind.Start, facts, cancellationToken);
        var results = await new SmokeChecks(environment, Http).RunAsync(request.Settings.Smoke, HookKind.Start, facts, cancellationToken);
        var failed = results.Where(result => !result.Passed).ToList();
        if (failed.Count > 0)
            throw new DeploymentException(
                $"{failed.Count} of {results.Count} smoke checks failed ({string.Join("; ", failed.Select(result => $"{result.Name}: {result.Detail}"))})");
        return [.. results.Select(result => new CheckRecord($"smoke: {result.Name}", "ok", true, result.Detail))];
    }

    /// Brings the previous version back after a rollback, and waits until it answers as that version; false when no
    /// revert hook is set.
    public async Task<bool> RevertAsync(DeploymentFacts facts, CancellationToken cancellationToken)
    {
        if (Hooks.Revert is null)
            return false;
        await RunHookAsync(HookKind.Revert, Hooks.Revert, facts, cancellationToken);
        if (request.Settings.Health is { } health)
            await new HealthProbe(environment, Http).WaitAsync(health, HookKind.Revert, facts, cancellationToken);
        return true;
    }

    async Task RunHookAsync(HookKind kind, Hook? hook, DeploymentFacts facts, CancellationToken cancellationToken)
    {
        if (hook is null)
        {
            Log.Information("No {Hook} hook is set for '{Environment}'", kind.Name(), request.EnvironmentName);
            return;
        }
        await new HookRunner(environment, Http, request.RootDirectory).RunAsync(kind, hook, facts, cancellationToken);
    }
}
