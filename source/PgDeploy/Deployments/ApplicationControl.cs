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

    HookSettings Hooks => request.Settings.Hooks;

    public bool CanRevert => Hooks.Revert is not null;

    public Task StopAsync(DeploymentFacts facts, CancellationToken cancellationToken) => RunHookAsync("stop", Hooks.Stop, facts, cancellationToken);

    /// Starts the new version and proves it works: healthy, and every smoke check passes.
    public async Task<IReadOnlyList<CheckRecord>> StartAsync(DeploymentFacts facts, CancellationToken cancellationToken)
    {
        await RunHookAsync("start", Hooks.Start, facts, cancellationToken);
        if (request.Settings.Health is { } health)
            await new HealthProbe(Http).WaitAsync(health, cancellationToken);
        var results = await new SmokeChecks(Http, Secrets).RunAsync(request.Settings.Smoke, cancellationToken);
        var failed = results.Where(result => !result.Passed).ToList();
        if (failed.Count > 0)
            throw new DeploymentException(
                $"{failed.Count} of {results.Count} smoke checks failed ({string.Join("; ", failed.Select(result => $"{result.Name}: {result.Detail}"))})");
        return [.. results.Select(result => new CheckRecord($"smoke: {result.Name}", "ok", true, result.Detail))];
    }

    /// Brings the previous version back after a rollback; false when no revert hook is set.
    public async Task<bool> RevertAsync(DeploymentFacts facts, CancellationToken cancellationToken)
    {
        if (Hooks.Revert is null)
            return false;
        await RunHookAsync("revert", Hooks.Revert, facts, cancellationToken);
        if (request.Settings.Health is { } health)
            await new HealthProbe(Http).WaitAsync(health, cancellationToken);
        return true;
    }

    async Task RunHookAsync(string name, Hook? hook, DeploymentFacts facts, CancellationToken cancellationToken)
    {
        if (hook is null)
        {
            Log.Information("No {Name} hook is set for '{Environment}'", name, request.EnvironmentName);
            return;
        }
        await new HookRunner(Secrets, Http, Environment(facts), request.RootDirectory).RunAsync(name, hook, cancellationToken);
    }

    SecretVariables Secrets => new(name => Environment(null).GetValueOrDefault(name));

    IReadOnlyDictionary<string, string?> Environment(DeploymentFacts? facts) =>
        request.EnvironmentFiles.SelectMany(DotEnvFile.Read)
            .Select(pair => KeyValuePair.Create(pair.Key, (string?)pair.Value))
            .Concat(System.Environment.GetEnvironmentVariables().Cast<DictionaryEntry>().Select(entry => KeyValuePair.Create((string)entry.Key, (string?)entry.Value)))
            .Concat(facts is null ? [] : new Dictionary<string, string?>
            {
                ["DEPLOY_ENVIRONMENT"] = facts.Environment, ["DEPLOY_RUN_ID"] = facts.RunId,
                ["DEPLOY_FROM_VERSION"] = facts.FromVersion, ["DEPLOY_TO_VERSION"] = facts.ToVersion,
            })
            .GroupBy(pair => pair.Key)
            .ToDictionary(group => group.Key, group => group.Last().Value);
}
