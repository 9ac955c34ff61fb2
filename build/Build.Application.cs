using System.Collections;
using PgDeploy.Application;
using PgDeploy.Environments;
using PgDeploy.Reporting;
using Serilog;

/// The application around the database: the hooks that stop, start and revert it, its health check
/// and the smoke checks a person would otherwise click through after the upgrade.
partial class Build
{
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// The process environment, completed by .env (and for the local environment by the settings the demo
    /// generated): what hooks and ${VARIABLES} see.
    IReadOnlyDictionary<string, string?> HookEnvironment =>
        hookEnvironment ??= DotEnvFile.Read(RootDirectory / ".env")
            .Concat(TargetEnvironment.IsLocal ? DotEnvFile.Read(LocalSettingsFile) : [])
            .Select(pair => KeyValuePair.Create(pair.Key, (string?)pair.Value))
            .Concat(System.Environment.GetEnvironmentVariables().Cast<DictionaryEntry>().Select(entry => KeyValuePair.Create((string)entry.Key, (string?)entry.Value)))
            .GroupBy(pair => pair.Key)
            .ToDictionary(group => group.Key, group => group.Last().Value);
    IReadOnlyDictionary<string, string?>? hookEnvironment;

    SecretVariables Secrets => new(name => HookEnvironment.GetValueOrDefault(name));

    HookRunner Hooks => new(Secrets, Http, HookEnvironment, RootDirectory);

    async Task RunHookAsync(string name, Hook? hook, CancellationToken cancellationToken)
    {
        if (hook is null)
        {
            Log.Information("No {Name} hook is set for '{Environment}'", name, TargetEnv);
            return;
        }
        await Hooks.RunAsync(name, hook, cancellationToken);
        // Outside a deployment (the demo's own setup) there is no journal to write to.
        journal?.Record(name, $"{name} hook done");
    }

    async Task StartApplicationAsync(CancellationToken cancellationToken)
    {
        var settings = TargetEnvironment.Settings;
        await RunHookAsync("start", settings.Hooks.Start, cancellationToken);
        if (settings.Health is { } health)
        {
            var waited = await new HealthProbe(Http).WaitAsync(health, cancellationToken);
            DeploymentJournal.Record(nameof(Restart), $"healthy after {waited.TotalSeconds:0.0} s");
        }

        var results = await new SmokeChecks(Http, Secrets).RunAsync(settings.Smoke, cancellationToken);
        DeploymentJournal.Checks.AddRange(results.Select(result => new CheckRecord($"smoke: {result.Name}", result.Passed ? "ok" : "failed", result.Passed, result.Detail)));
        DeploymentJournal.Save();
        var failed = results.Where(result => !result.Passed).ToList();
        if (failed.Count > 0)
            throw new PgDeploy.DeploymentException(
                $"{failed.Count} of {results.Count} smoke checks failed ({string.Join("; ", failed.Select(result => $"{result.Name}: {result.Detail}"))}). " +
                "The upgrade is committed and the application is running and writing: fix forward if you can; " +
                "a restore with ./build.sh Rollback --discard-writes-since-restart would lose what it wrote since the fence was lifted.");
        ReportSummary(results.Count == 0 ? "no smoke checks set" : $"{results.Count} smoke checks passed");
    }
}
