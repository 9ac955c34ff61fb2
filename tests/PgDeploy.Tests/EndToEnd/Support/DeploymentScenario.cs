using System.Security.Cryptography;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd.Support;

/// <summary>The database (pg_dump of everything), the safe harbors, the hooks' log and the deployment records (journals, reports) at one moment.</summary>
internal sealed record ScenarioSnapshot(string Dump, IReadOnlyList<string> BackupFiles, IReadOnlyList<string> HookLog, IReadOnlyDictionary<string, string> Records);

/// <summary>One finished run of the build program.</summary>
internal sealed record BuildRun(string Command, int ExitCode, string Output)
{
    /// <summary>Waits for a build program a test started (and may have acted on meanwhile) to end, and keeps what it said.</summary>
    public static async Task<BuildRun> EndOfAsync(BuildProcess build, string command, TimeSpan timeout) =>
        new(command, await build.WaitForExitAsync(timeout), build.Output);

    public void AssertExitCode(int expected) =>
        Assert.True(ExitCode == expected, $"`{Command}` exited with {ExitCode}, expected {expected}. Its output:{Environment.NewLine}{Output}");
}

/// <summary>
/// Everything one end-to-end test deploys into and around: a build root with the school's two releases and environments/ci.json,
/// a fresh database, the application's role, the application's HTTP side, and hooks that log whether the role could log in
/// when they ran. Disposing it drops what the test made on the shared server: the databases a rollback kept for forensics,
/// the application's role and a dedicated runner role.
/// </summary>
internal sealed class DeploymentScenario : IAsyncDisposable
{
    private static readonly TimeSpan LongestRun = TimeSpan.FromMinutes(3);

    private readonly PostgresFixture postgres;
    private readonly string? dedicatedRunner;
    private ScenarioSettings settings = new();

    private DeploymentScenario(PostgresFixture postgres, TestDatabase database, string runnerConnectionString, string? dedicatedRunner)
    {
        this.postgres = postgres;
        this.dedicatedRunner = dedicatedRunner;
        Database = database;
        RunnerConnectionString = runnerConnectionString;
        Root = new BuildRoot();
        SchoolReleases.WriteTo(Root.Migrations);
        Records = new DeploymentRecords(Root.Directory, database.Name);
        SmokePassword = $"smoke-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
        Application = FakeApplication.Start(SmokePassword);
    }

    public BuildRoot Root { get; }

    /// <summary>The database, seen by the fixture's superuser: for dumps and checks.</summary>
    public TestDatabase Database { get; }

    /// <summary>What DATABASE_URL_CI_CLI holds: the fixture's superuser, or a dedicated runner given as a postgres:// URL.</summary>
    public string RunnerConnectionString { get; }

    public AppRole App { get; private set; } = null!;

    public FakeApplication Application { get; }

    /// <summary>The secret the smoke check posts as ${SMOKE_PASSWORD}; the child gets it in its environment only.</summary>
    public string SmokePassword { get; }

    public DeploymentRecords Records { get; }

    public string HookLogPath => Path.Combine(Root.Directory, "hooks.log");

    public string BackupDirectory => Path.Combine(Root.Directory, "backups");

    /// <summary>The hook <paramref name="hook"/> (stop, start, revert) logs its line, then waits until <see cref="ReleaseHooks"/>.</summary>
    public void HoldHook(string hook)
    {
        Directory.CreateDirectory(Path.Combine(Root.Directory, "hold"));
        File.WriteAllText(Path.Combine(Root.Directory, "hold", hook), "");
    }

    public void ReleaseHooks()
    {
        if (Directory.Exists(Path.Combine(Root.Directory, "hold")))
        {
            Directory.Delete(Path.Combine(Root.Directory, "hold"), recursive: true);
        }
    }

    /// <summary>How the build is started unless a test says otherwise: the runner's connection and the secrets of hooks and smoke checks.</summary>
    public BuildLaunch Launch => new()
    {
        ConnectionString = RunnerConnectionString,
        Variables = new Dictionary<string, string>
        {
            [ScenarioEnvironmentFile.SmokePasswordVariable] = SmokePassword,
            [ScenarioEnvironmentFile.AppPasswordVariable] = App.Password,
        },
    };

    /// <param name="dedicatedRunnerPassword">Deploy as a LOGIN role of the test's own with this password, instead of the fixture's superuser.</param>
    /// <param name="superuser">
    /// False: the dedicated runner is no superuser; it owns the database, may create databases (to restore), and may make the
    /// application's role NOLOGIN and end its sessions (to fence): CREATEDB, CREATEROLE and pg_signal_backend.
    /// </param>
    public static async Task<DeploymentScenario> CreateAsync(PostgresFixture postgres, string? dedicatedRunnerPassword = null, bool superuser = true)
    {
        var database = await TestDatabase.CreateAsync(postgres);
        var runnerConnectionString = database.ConnectionString;
        string? dedicatedRunner = null;
        if (dedicatedRunnerPassword is not null)
        {
            dedicatedRunner = $"deployer_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5))}";
            await using var server = new NpgsqlConnection(postgres.ServerConnectionString);
            await server.OpenAsync();
            var quoted = DatabaseAdmin.QuoteIdentifier(dedicatedRunner);
            await server.ExecuteAsync($"CREATE ROLE {quoted} LOGIN {(superuser ? "SUPERUSER" : "CREATEDB CREATEROLE")} PASSWORD '{dedicatedRunnerPassword}'");
            if (!superuser)
            {
                await server.ExecuteAsync($"ALTER DATABASE {DatabaseAdmin.QuoteIdentifier(database.Name)} OWNER TO {quoted}; GRANT pg_signal_backend TO {quoted}");
            }

            var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString);
            runnerConnectionString = $"postgres://{dedicatedRunner}:{Uri.EscapeDataString(dedicatedRunnerPassword)}@{builder.Host}:{builder.Port}/{builder.Database}";
        }

        var scenario = new DeploymentScenario(postgres, database, runnerConnectionString, dedicatedRunner);
        try
        {
            var runner = dedicatedRunner ?? new NpgsqlConnectionStringBuilder(database.ConnectionString).Username!;
            scenario.App = await AppRole.CreateAsync(postgres.ServerConnectionString, database, runner);
            await scenario.ConfigureAsync(new ScenarioSettings());
        }
        catch
        {
            await scenario.DisposeAsync();
            throw;
        }

        return scenario;
    }

    public ScenarioSettings Settings => settings;

    /// <summary>Rewrites environments/ci.json for the next runs.</summary>
    public async Task ConfigureAsync(ScenarioSettings newSettings)
    {
        settings = newSettings;
        var psql = await PostgresBinaries.FindClientToolAsync("psql");
        var connection = new NpgsqlConnectionStringBuilder(Database.ConnectionString);
        var loginProbe = $"PGPASSWORD=\"${ScenarioEnvironmentFile.AppPasswordVariable}\" '{psql.Path}' -X -w -q -tA -c 'SELECT 1' " +
                         $"'host={connection.Host} port={connection.Port} dbname={connection.Database} user={App.Name}' >/dev/null 2>&1 " +
                         "&& echo app-can-log-in || echo app-cannot-log-in";
        Root.WriteEnvironment(ScenarioEnvironmentFile.Json(settings, App.Name, HookLogPath, loginProbe, Application.BaseUrl));
    }

    public Task<BuildRun> RunAsync(params string[] arguments) => RunAsync(Launch, arguments);

    public Task<BuildRun> RunAsync(BuildLaunch launch, params string[] arguments) => RunInAsync(Root, launch, arguments);

    /// <summary>One whole run of the build program in <paramref name="root"/>, also for a test that deploys without a scenario.</summary>
    public static async Task<BuildRun> RunInAsync(BuildRoot root, BuildLaunch launch, params string[] arguments)
    {
        using var build = await BuildProgram.StartAsync(root, launch, arguments);
        return await BuildRun.EndOfAsync(build, string.Join(' ', arguments), LongestRun);
    }

    public Task<BuildRun> DeployAsync(string version, params string[] more) => RunAsync(["Deploy", "--version", version, .. more]);

    /// <summary>
    /// Brings the database to 0.1 with a whole Deploy, then lets the application write as it would between releases: it enrols
    /// a student (taking the next serial key), and <paramref name="alsoEnrolSingleName"/> one whose name 0.2 cannot split.
    /// </summary>
    public async Task PrepareAtV01Async(bool alsoEnrolSingleName = false)
    {
        (await DeployAsync("0.1")).AssertExitCode(0);
        Assert.True(await App.CanLogInAsync(), "After Deploy 0.1 the application's role must be able to log in.");
        await App.EnrolAtV01Async("Katherine Coleman Johnson");
        if (alsoEnrolSingleName)
        {
            await App.EnrolAtV01Async(SchoolReleases.SingleName);
        }
    }

    /// <summary>Everything in the database, the pgdeploy history included.</summary>
    public Task<string> DumpAsync() => Database.DumpWholeAsync();

    public IReadOnlyList<string> HookLog() => File.Exists(HookLogPath) ? File.ReadAllLines(HookLogPath) : [];

    /// <summary>The safe harbors and manifests in the backup directory.</summary>
    public IReadOnlyList<string> BackupFiles() =>
        Directory.Exists(BackupDirectory) ? [.. Directory.GetFileSystemEntries(BackupDirectory).Order(StringComparer.Ordinal)] : [];

    public string FailedDatabaseName(string runId) => $"{Database.Name}__failed_{runId}";

    /// <summary>The database a rollback of run <paramref name="runId"/> swapped out and kept for forensics.</summary>
    public TestDatabase FailedDatabase(string runId) =>
        new(new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Database = FailedDatabaseName(runId) }.ConnectionString);

    /// <summary>Databases a deployment made beside the test database: kept for forensics (__failed_), left half-restored (__restore_), or a safe harbor's clone (__harbor_).</summary>
    public async Task<IReadOnlyList<string>> DatabasesBesideAsync()
    {
        await using var server = new NpgsqlConnection(postgres.ServerConnectionString);
        await server.OpenAsync();
        return [.. await server.QueryAsync<string>(
            "SELECT datname FROM pg_database WHERE starts_with(datname, @failed) OR starts_with(datname, @restoring) OR starts_with(datname, @harbor) ORDER BY 1",
            new { failed = $"{Database.Name}__failed_", restoring = $"{Database.Name}__restore_", harbor = $"{Database.Name}__harbor_" })];
    }

    /// <summary>What a refused run must leave as it was: the database, the safe harbors, the hooks' log, the deployment records.</summary>
    public async Task<ScenarioSnapshot> SnapshotAsync() =>
        new(await DumpAsync(), BackupFiles(), HookLog(), Records.Files().ToDictionary(file => file, File.ReadAllText));

    /// <summary>
    /// <paramref name="run"/> changed nothing since <paramref name="before"/>: the same database, no hook ran, no safe harbor was
    /// taken, no database was made beside it, and the application's role can still log in (no fence).
    /// </summary>
    public async Task AssertUnchangedAsync(ScenarioSnapshot before, BuildRun run)
    {
        DumpAssert.Identical(before.Dump, await DumpAsync());
        Assert.True(await App.CanLogInAsync(), $"`{run.Command}` left the application's role fenced:{Environment.NewLine}{run.Output}");
        Assert.Equal(before.BackupFiles, BackupFiles());
        Assert.Equal(before.HookLog, HookLog());
        Assert.Empty(await DatabasesBesideAsync());
        Assert.Equal(before.Records, Records.Files().ToDictionary(file => file, File.ReadAllText));
    }

    /// <summary>
    /// Prerequisites refused the run and nothing after it ran; <paramref name="check"/> is the one check that failed (null: the
    /// refusal came before the checks).
    /// </summary>
    public static void AssertRefusedInPrerequisites(BuildRun run, string? check = null)
    {
        run.AssertExitCode(2);
        Assert.Matches(@"Build failed on [0-9: -]+: Prerequisites failed; Rollback skipped\.", run.Output);
        var failures = System.Text.RegularExpressions.Regex.Matches(run.Output, @"^\d\d:\d\d:\d\d \[ERR\]\s+FAIL  ([^:]+):", System.Text.RegularExpressions.RegexOptions.Multiline).Select(match => match.Groups[1].Value).ToList();
        Assert.Equal(check is null ? [] : [check], failures);
    }

    /// <summary>
    /// <paramref name="secret"/> is in none of what the build wrote for people to read: the runs' output, the logs under
    /// .nuke/temp, the journals and reports of every environment, and the safe harbors' manifests.
    /// </summary>
    public void AssertSecretNowhere(string secret, params BuildRun[] runs)
    {
        Assert.All(runs, run => Assert.False(run.Output.Contains(secret, StringComparison.Ordinal), $"The output of `{run.Command}` holds the secret."));
        var files = Root.LogFiles()
            .Concat(Records.Files())
            .Concat(BackupFiles().Where(file => file.EndsWith(".manifest.json", StringComparison.Ordinal)))
            .ToList();
        Assert.Contains(files, file => Path.GetFileName(file) == "build.log");
        Assert.All(files, file => Assert.False(File.ReadAllText(file).Contains(secret, StringComparison.Ordinal), $"{file} holds the secret."));
    }

    public async ValueTask DisposeAsync()
    {
        await Application.DisposeAsync();
        foreach (var database in await DatabasesBesideAsync())
        {
            await DatabaseAdmin.DropDatabaseAsync(postgres.ServerConnectionString, database);
        }

        if (App is not null)
        {
            await App.DropAsync();
        }

        if (dedicatedRunner is not null)
        {
            await DropDedicatedRunnerAsync(dedicatedRunner);
        }

        Root.Dispose();
    }

    private async Task DropDedicatedRunnerAsync(string runner)
    {
        var quoted = DatabaseAdmin.QuoteIdentifier(runner);
        var superuser = DatabaseAdmin.QuoteIdentifier(new NpgsqlConnectionStringBuilder(postgres.ServerConnectionString).Username!);
        await using (var owner = await Database.OpenAsync())
        {
            await owner.ExecuteAsync("SET default_transaction_read_only = off");
            await owner.ExecuteAsync($"REASSIGN OWNED BY {quoted} TO {superuser}");
            await owner.ExecuteAsync($"DROP OWNED BY {quoted}");
        }

        await using var server = new NpgsqlConnection(postgres.ServerConnectionString);
        await server.OpenAsync();
        await server.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = @runner", new { runner });
        await server.ExecuteAsync($"DROP ROLE {quoted}");
    }
}
