using System.Text.Json;
using System.Text.Json.Serialization;
using PgDeploy.Migrations;

namespace PgDeploy.Environments;

/// What environments/&lt;name&gt;.json says about one environment. It holds no secrets: the connection
/// string comes from DATABASE_URL_&lt;NAME&gt;_CLI, and a hook or smoke check refers to other secrets as
/// ${VARIABLE}, resolved from the environment or .env when it runs.
public sealed record EnvironmentSettings
{
    public string? Description { get; init; }

    /// A production environment asks for an explicit "y" (or --yes without a terminal) before it changes anything.
    public bool Production { get; init; }

    /// The local environment runs on the throwaway PostgreSQL under .nuke/temp/postgres; this names its database.
    public string? LocalDatabase { get; init; }

    public MigrationSettings Migrations { get; init; } = new();
    public BackupSettings Backup { get; init; } = new();
    public PrecomputeSettings Precompute { get; init; } = new();
    public WindowSettings Window { get; init; } = new();
    public FenceSettings Fence { get; init; } = new();
    public HookSettings Hooks { get; init; } = new();
    public HealthCheck? Health { get; init; }
    public IReadOnlyList<SmokeCheck> Smoke { get; init; } = [];
    public RehearsalSettings Rehearsal { get; init; } = new();

    /// Set, the environment is many databases (one per tenant, say), each deployed as its own deployment.
    public FleetSettings? Fleet { get; init; }

    static readonly JsonSerializerOptions Options = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new PostgresDuration.JsonConverter(), new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static EnvironmentSettings Load(string path)
    {
        try
        {
            var settings = JsonSerializer.Deserialize<EnvironmentSettings>(File.ReadAllText(path), Options) ?? throw new JsonException("the file is empty");
            return settings with { Fence = settings.Fence with { Scope = settings.Fence.Scope ?? (settings.Fleet is null ? FenceScope.Roles : FenceScope.Database) } };
        }
        catch (JsonException exception)
        {
            throw new DeploymentRefusedException($"{path} is not valid environment settings: {exception.Message} Fix the file; nothing was changed.");
        }
    }
}

public enum DumpFormat { Custom, Directory }

/// How the safe harbor is taken inside the fence: a clone of the database (a file copy, about 1 s per GB) dumped after the
/// window, or the dump itself inside the window.
public enum BackupMode
{
    [JsonStringEnumMemberName("clone+dump")] CloneAndDump,
    [JsonStringEnumMemberName("dump")] Dump,
}

public sealed record BackupSettings
{
    /// Where safe-harbor dumps go, relative to the repository root unless absolute.
    public string Directory { get; init; } = "backups";
    public DumpFormat Format { get; init; } = DumpFormat.Custom;
    /// pg_dump/pg_restore jobs; parallel dumps need the directory format.
    public int Jobs { get; init; } = 1;
    /// How many safe harbors of this environment to keep; older ones are deleted after a successful backup.
    public int Keep { get; init; } = 5;
    /// The oldest an existing dump given with --backup-file may be.
    public TimeSpan MaxAgeOfGivenBackup { get; init; } = TimeSpan.FromHours(1);
    /// Take pg_dump and pg_restore from this directory only (e.g. /usr/lib/postgresql/17/bin); by default the newest installed.
    public string? ClientToolDirectory { get; init; }
    /// `clone+dump` or `dump`; unset, clone+dump where the server allows it (CREATEDB, room for the copy on its disk), else dump.
    /// Stated, clone+dump that the server does not allow is refused by Prerequisites.
    public BackupMode? Mode { get; init; }
    /// Keep the clone once its dump is verified: a rollback by hand then swaps it in instead of restoring the dump.
    public bool KeepClone { get; init; }
    /// Dump the clone while Migrate, PostProcess and Verify run in the same process, rather than after Restart: the deployment
    /// ends sooner, but the dump competes with the upgrade for the server's CPU and disk.
    public bool DumpCloneDuringUpgrade { get; init; }
}

public sealed record PrecomputeSettings
{
    /// The least share of each precomputable transform's rows (in percent) that must be precomputed when the fence is about
    /// to go up, e.g. 99.9: below it, MaintenanceOn refuses before fencing, because the window would be spent computing what
    /// could have been computed while the application ran. Null: no minimum.
    public double? MinimumCoverage { get; init; }
}

public sealed record WindowSettings
{
    /// The longest the scripts may be estimated to take inside the fence, e.g. "15min". Over it, production refuses before
    /// fencing and names the scripts that blow it; elsewhere it is a warning. Null: no budget.
    public TimeSpan? Budget { get; init; }
}

public sealed record FenceSettings
{
    /// The application's database roles: while fenced they cannot connect, and their sessions are ended.
    public IReadOnlyList<string> Roles { get; init; } = [];
    /// How long to wait for the application's sessions to end before failing.
    public TimeSpan SessionDrainTimeout { get; init; } = TimeSpan.FromSeconds(15);
    /// `roles`: the roles become NOLOGIN, on the whole server. `database`: their CONNECT on this database is revoked, so that
    /// a role shared by many databases (a fleet's tenants) still works on the others. Unset: `database` for a fleet, else `roles`.
    public FenceScope? Scope { get; init; }
}

public enum FenceScope { Roles, Database }

/// A shell command (run with `sh -c`) or an HTTP call. It sees the environment and .env without the runner's own
/// credentials (DATABASE_URL_*_CLI, PG*), plus DEPLOY_ENVIRONMENT, DEPLOY_RUN_ID, DEPLOY_FROM_VERSION, DEPLOY_TO_VERSION
/// and DEPLOY_APP_VERSION, the version it brings up or takes down (stop: from, start: to, revert: from).
public sealed record Hook
{
    public string? Command { get; init; }
    public string? Url { get; init; }
    public string Method { get; init; } = "POST";
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    public string? Body { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);
}

public sealed record HookSettings
{
    /// Stops the application or switches on its maintenance mode, before the fence goes up.
    public Hook? Stop { get; init; }
    /// Starts the application with the new version's code, after the fence is lifted.
    public Hook? Start { get; init; }
    /// Brings the previous version's code back, after a rollback.
    public Hook? Revert { get; init; }
}

/// What the application a start or revert hook brought up answers once it is ready.
public sealed record HealthCheck
{
    public required string Url { get; init; }
    public int ExpectStatus { get; init; } = 200;
    /// Text the body must contain, with ${VARIABLES} of the hook that just ran, e.g. "appVersion":"${DEPLOY_APP_VERSION}":
    /// without it, another process answering on the same address would pass for the application the hook started.
    public string? ExpectBody { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);
}

/// One request a real user would make after the upgrade, e.g. log in as a representative teacher.
public sealed record SmokeCheck
{
    public required string Name { get; init; }
    public required string Url { get; init; }
    public string Method { get; init; } = "GET";
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    public string? Body { get; init; }
    public int ExpectStatus { get; init; } = 200;
    /// Text the response body must contain.
    public string? ExpectBody { get; init; }
}

/// Many databases on one server deployed as one environment: each gets its own deployment (fence scope, safe harbor,
/// journal, report), in waves, a canary first.
public sealed record FleetSettings
{
    /// The databases by name, in the order their waves run.
    public IReadOnlyList<string> Databases { get; init; } = [];

    /// Instead of the names: a query run on the database the connection string names, one database name per row, in order.
    public string? Query { get; init; }

    /// How many databases deploy first, alone and one after the other, before any other starts.
    public int Canary { get; init; } = 1;

    /// Deployments at a time after the canary. Above 1 not with fence.scope roles: a role's NOLOGIN is cluster wide, so two
    /// deployments at once would lift each other's fence; a fleet's default, fence.scope database, fences each database alone.
    public int Parallelism { get; init; } = 1;

    /// `stop`: after a failure no later wave starts (the running wave finishes); `continue`: every database is tried.
    public FleetFailurePolicy OnFailure { get; init; } = FleetFailurePolicy.Stop;
}

public enum FleetFailurePolicy { Stop, Continue }

