using CliWrap;
using Npgsql;
using PgDeploy;
using PgDeploy.Deployments;
using PgDeploy.Components;
using PgDeploy.Environments;
using PgDeploy.Postgres;
using School;
using Serilog;
using TargetEngine;

/// The project's living example, in one command: the school database at v0.3 with its v0.3 API on the
/// local PostgreSQL, then the real deployment of 0.4 in a process of its own, exactly as an operator runs it.
partial class Build
{
    [Parameter("Size of the Demo's sample database: 1 is about 100k users and 1 GB (and most of an hour of password hashing on 2 cores)")]
    readonly double Scale = 0.01;

        static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    Target Demo => _ => _
        .Description("Create the local school database at v0.3 with sample data, start its API, then Deploy --version 0.4 (add --inject-failure Verify to watch a rollback)")
        .Executes(RunDemoAsync);

    async Task RunDemoAsync(CancellationToken cancellationToken)
    {
        if (!Upgrade.Environment.IsLocal)
            throw new DeploymentRefusedException($"Demo rebuilds its database from scratch and runs only on the local environment, not on '{Parameters.TargetEnv}'. Leave out --target-env.");
        await RunSampleApiAsync("stop", cancellationToken);

        var cluster = await LocalCluster.StartPersistentAsync(Upgrade.LocalClusterDirectory, cancellationToken);
        var identity = await LocalIdentityAsync(cluster, cancellationToken);
        SetAsideJournal(DeploymentJournal.DefaultPath(TemporaryDirectory / "deployments", identity));
        var settings = await new DemoDatabase(cluster, Upgrade.Environment.Settings.LocalDatabase!, Upgrade.Catalog).CreateAsync(Scale, cancellationToken);
        await File.WriteAllLinesAsync(Upgrade.LocalSettingsFile, settings.Select(setting => $"{setting.Key}='{setting.Value}'"), cancellationToken);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Upgrade.LocalSettingsFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await RunSampleApiAsync("start 0.3", cancellationToken);

        var exitCode = await DeployInChildProcessAsync(cancellationToken);
        var expected = Parameters.InjectFailure is null ? 0 : 1;
        var logins = expected == 0 ? await SampleData.CheckLoginsAsync(await Upgrade.ConnectionStringAsync(cancellationToken), DemoDatabase.Seed, 50, cancellationToken) : null;
        var report = Directory.GetFiles(Path.GetDirectoryName(DeploymentJournal.DefaultPath(TemporaryDirectory / "deployments", identity))!, "report.md", SearchOption.AllDirectories)
            .MaxBy(File.GetLastWriteTimeUtc);
        Log.Information("Deployment report: {Report}", report);
        var apiVersion = expected == 0 ? "0.4" : "0.3";
        var health = await Http.GetStringAsync(Upgrade.Environment.Settings.Health!.Url, cancellationToken);
        if (exitCode != expected || logins is { Passed: false } || !health.Contains($"\"appVersion\":\"{apiVersion}\""))
            throw new DeploymentException(
                $"The demo's deployment ended with exit code {exitCode} (expected {expected}), the API answers {health} (expected the {apiVersion} build)" +
                $"{(logins is { Passed: false } ? $" and {logins.FailedLegacyIds.Count} sampled users could not log in" : "")}; see its report {report} " +
                $"and its log {DeploymentLogDirectory / "build.log"}.");
        ReportSummary(logins is null
            ? "rolled back as injected; the v0.3 API answers again"
            : $"deployed 0.4; {Window(DeploymentJournal.Load(DeploymentJournal.DefaultPath(TemporaryDirectory / "deployments", identity))!)}; " +
              $"the v0.4 API answers; {logins.Checked} sampled users log in with their old passwords");
    }

    /// What the demo is about: how long the application was down, and what ran before the fence instead.
    static string Window(DeploymentJournal journal)
    {
        var window = journal.FenceLiftedAt - journal.FenceRaisedAt;
        var precompute = journal.Targets.FirstOrDefault(target => target.Name == nameof(IPostgresUpgrade.Precompute))?.Duration;
        return $"maintenance window {window?.TotalSeconds:0.0} s" + (precompute is { } ahead ? $" (Precompute ran {ahead.TotalSeconds:0.0} s before it)" : "");
    }

    /// The demo rebuilds its database from scratch, so whatever an earlier demo left unfinished is void; its journal
    /// stays, renamed, for reading.
    static void SetAsideJournal(string journal)
    {
        if (File.Exists(journal))
            File.Move(journal, $"{journal}.{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}", overwrite: true);
    }

    async Task<DatabaseIdentity> LocalIdentityAsync(LocalCluster cluster, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString());
        await connection.OpenAsync(cancellationToken);
        var server = await DatabaseIdentity.ReadAsync(connection, cancellationToken);
        return server with { Database = Upgrade.Environment.Settings.LocalDatabase! };
    }

    /// The demo's own setup drives the sample API directly: no deployment is running yet to give hooks their facts.
    async Task RunSampleApiAsync(string arguments, CancellationToken cancellationToken)
    {
        var settings = DotEnvFile.Read(Upgrade.LocalSettingsFile);
        await Cli.Wrap(RootDirectory / "samples" / "SchoolApi" / "school-api.sh")
            .WithArguments(arguments.Split(' '))
            .WithWorkingDirectory(RootDirectory)
            .WithEnvironmentVariables(settings.ToDictionary(pair => pair.Key, pair => (string?)pair.Value))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(line => Log.Information("  {Line}", line)))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line => Log.Warning("  {Line}", line)))
            .ExecuteAsync(cancellationToken);
    }

    /// The deployment's own build.log, apart from the Demo's.
    AbsolutePath DeploymentLogDirectory => TemporaryDirectory / "demo";

    async Task<int> DeployInChildProcessAsync(CancellationToken cancellationToken)
    {
        string[] arguments = ["Deploy", "--version", "0.4", "--target-env", Parameters.TargetEnv, "--root", RootDirectory, "--migrations-dir", Parameters.MigrationsDirectory,
            .. Parameters.InjectFailure is { } target ? ["--inject-failure", target.ToString()] : Array.Empty<string>()];
        // The demo's idle pooled sessions on the database would stop Backup from cloning it (a template may have no other session).
        NpgsqlConnection.ClearAllPools();
        var result = await BuildProgramProcess.Command(arguments, DeploymentLogDirectory)
            .WithStandardOutputPipe(PipeTarget.ToStream(Console.OpenStandardOutput()))
            .WithStandardErrorPipe(PipeTarget.ToStream(Console.OpenStandardError()))
            .ExecuteAsync(CancellationToken.None, cancellationToken);
        return result.ExitCode;
    }
}
