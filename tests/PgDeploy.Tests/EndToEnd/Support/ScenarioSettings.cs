using System.Text.Json;
using System.Text.Json.Nodes;

namespace PgDeploy.Tests.EndToEnd.Support;

/// <summary>What a test varies in environments/ci.json; everything else is the scenario's fixed application around the database.</summary>
internal sealed record ScenarioSettings
{
    /// <summary>"production": true, which asks for a confirmation (or --yes) before anything changes.</summary>
    public bool Production { get; init; }

    /// <summary>Sets hooks.revert, which brings the previous code back after a rollback and lets the fence come down.</summary>
    public bool RevertHook { get; init; }

    /// <summary>backup.clientToolDirectory: take pg_dump and pg_restore from there only.</summary>
    public string? ClientToolDirectory { get; init; }

    /// <summary>backup.mode: "clone+dump" or "dump"; null leaves it to the tool (clone+dump where the server allows it).</summary>
    public string? BackupMode { get; init; }

    /// <summary>backup.keepClone: the clone stays once its dump is verified.</summary>
    public bool KeepClone { get; init; }

    /// <summary>backup.dumpCloneDuringUpgrade: the clone is dumped beside Migrate, PostProcess and Verify rather than after Restart.</summary>
    public bool DumpCloneDuringUpgrade { get; init; }

    /// <summary>Shell commands a hook (stop, start, revert) runs after its log line, in the build root: to fail it, or to log what it sees.</summary>
    public IReadOnlyDictionary<string, string> HookCommands { get; init; } = new Dictionary<string, string>();

    /// <summary>migrations.deploymentLockWait: how long a run waits for another run's deployment lock before it is refused.</summary>
    public string DeploymentLockWait { get; init; } = "10s";

    /// <summary>rehearsal.required: Deploy refuses without a passing rehearsal of its plan.</summary>
    public bool RehearsalRequired { get; init; }

    /// <summary>rehearsal.server: the variable that holds the rehearsal server's URL.</summary>
    public string? RehearsalServer { get; init; }

    /// <summary>rehearsal.maxAge: the oldest rehearsal that counts.</summary>
    public string RehearsalMaxAge { get; init; } = "24h";

    /// <summary>window.budget: the longest the scripts may be estimated to take inside the fence.</summary>
    public string? WindowBudget { get; init; }
}

/// <summary>Writes the environment settings file for a scenario: hooks that log to a file, the fake application's health and smoke checks.</summary>
internal static class ScenarioEnvironmentFile
{
    public const string SmokePasswordVariable = "SMOKE_PASSWORD";
    public const string AppPasswordVariable = "APP_ROLE_PASSWORD";

    /// <param name="loginProbe">A shell command that prints whether the application's role can log in right now.</param>
    public static string Json(ScenarioSettings settings, string appRole, string hookLog, string loginProbe, string applicationUrl)
    {
        // A hook logs, then waits while hold/<name> exists beside the log (a test holds the deployment inside the hook to kill it
        // there), then runs the test's own commands for it.
        var hold = Path.Combine(Path.GetDirectoryName(hookLog)!, "hold") + "/";
        JsonObject Hook(string name) => new()
        {
            ["command"] = $"echo \"{name} $({loginProbe})\" >> '{hookLog}'; while [ -e '{hold}{name}' ]; do sleep 0.1; done"
                          + (settings.HookCommands.TryGetValue(name, out var more) ? $" && {more}" : ""),
            ["timeout"] = "60s",
        };

        var hooks = new JsonObject { ["stop"] = Hook("stop"), ["start"] = Hook("start") };
        if (settings.RevertHook)
        {
            hooks["revert"] = Hook("revert");
        }

        var backup = new JsonObject { ["directory"] = "backups", ["keep"] = 10, ["maxAgeOfGivenBackup"] = "1h" };
        if (settings.BackupMode is { } mode)
        {
            backup["mode"] = mode;
        }

        if (settings.KeepClone)
        {
            backup["keepClone"] = true;
        }

        if (settings.DumpCloneDuringUpgrade)
        {
            backup["dumpCloneDuringUpgrade"] = true;
        }

        if (settings.ClientToolDirectory is { } clientTools)
        {
            backup["clientToolDirectory"] = clientTools;
        }

        var json = new JsonObject
        {
            ["description"] = "End-to-end test environment",
            ["production"] = settings.Production,
            ["backup"] = backup,
            ["fence"] = new JsonObject { ["roles"] = new JsonArray(appRole), ["sessionDrainTimeout"] = "10s" },
            ["hooks"] = hooks,
            ["health"] = new JsonObject { ["url"] = $"{applicationUrl}/health", ["timeout"] = "30s" },
            ["smoke"] = new JsonArray(new JsonObject
            {
                ["name"] = "teacher logs in",
                ["method"] = "POST",
                ["url"] = $"{applicationUrl}/login",
                ["body"] = $"{{ \"email\": \"teacher@school.example\", \"password\": \"${{{SmokePasswordVariable}}}\" }}",
                ["expectStatus"] = 200,
                ["expectBody"] = FakeApplication.Welcome,
            }),
            ["migrations"] = new JsonObject { ["deploymentLockWait"] = settings.DeploymentLockWait },
            ["rehearsal"] = new JsonObject { ["required"] = settings.RehearsalRequired, ["server"] = settings.RehearsalServer, ["maxAge"] = settings.RehearsalMaxAge },
            ["window"] = new JsonObject { ["budget"] = settings.WindowBudget },
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
