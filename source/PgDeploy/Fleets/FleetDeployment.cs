using System.Diagnostics;
using System.Text;
using Npgsql;
using PgDeploy.Deployments;
using PgDeploy.Environments;
using PgDeploy.Migrations;
using PgDeploy.Migrations.History;
using PgDeploy.Reporting;
using Serilog;

namespace PgDeploy.Fleets;

/// <summary>
/// Deploys a fleet wave by wave. Each database gets a deployment of its own, which the caller runs (the build program, in a
/// process per database): this class decides which start, reads where each ended, and writes the fleet report.
/// </summary>
/// <param name="deployOne">Deploys one database and returns its exit code and the file that holds its output.</param>
/// <param name="connectionStringOf">The connection string of one of the fleet's databases.</param>
public sealed class FleetDeployment(
    Fleet fleet, AppVersion target, Func<string, CancellationToken, Task<(int ExitCode, string Log)>> deployOne, Func<string, string> connectionStringOf, string deploymentsDirectory)
{
    /// <returns>The outcome of each database, in the fleet's order.</returns>
    public async Task<FleetReport> RunAsync(string reportDirectory, CancellationToken cancellationToken)
    {
        Log.Information("Fleet {Environment}: {Count} database(s) in {Waves} wave(s): a canary of {Canary}, then {Parallelism} at a time; on a failure, {Policy}",
            fleet.Environment, fleet.Databases.Count, fleet.Waves.Count, fleet.Settings.Canary, fleet.Settings.Parallelism, fleet.Settings.OnFailure.ToString().ToLowerInvariant());
        var outcomes = new List<FleetMemberOutcome>();
        var stopped = false;
        foreach (var (wave, number) in fleet.Waves.Select((wave, index) => (wave, index + 1)))
        {
            if (stopped || cancellationToken.IsCancellationRequested)
            {
                outcomes.AddRange(wave.Select(database => new FleetMemberOutcome(database, number, FleetMemberStatus.NotStarted, null, null, null, null, null, null, null)));
                continue;
            }

            Log.Information("Fleet wave {Wave}/{Waves}{Canary}: {Databases}", number, fleet.Waves.Count, number <= fleet.Settings.Canary ? " (canary)" : "", string.Join(", ", wave));
            var results = await Task.WhenAll(wave.Select(database => DeployAsync(database, number, cancellationToken)));
            outcomes.AddRange(results);
            foreach (var result in results)
                Log.Information("  {Database}: {Outcome}", result.Database, result.Describe());
            stopped = fleet.Settings.OnFailure == FleetFailurePolicy.Stop && results.Any(result => result.Status == FleetMemberStatus.Failed);
        }

        var report = new FleetReport(fleet.Environment, target.ToString(), fleet.Settings.OnFailure.ToString().ToLowerInvariant(), DateTimeOffset.UtcNow, outcomes);
        // Written also when the run was interrupted: it says which databases were not started.
        await JsonReport.WriteAsync(Path.Combine(reportDirectory, "fleet.json"), report, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(reportDirectory, "fleet.md"), report.Markdown(), CancellationToken.None);
        return report;
    }

    async Task<FleetMemberOutcome> DeployAsync(string database, int wave, CancellationToken cancellationToken)
    {
        var before = await VersionAsync(database, cancellationToken);
        var stopwatch = Stopwatch.StartNew();
        var (exitCode, log) = await deployOne(database, cancellationToken);
        // Read also after an interrupt: the child has rolled back and exited, and the report must say where it ended.
        var after = await VersionAsync(database, CancellationToken.None);
        var status = exitCode != ExitCodes.Succeeded ? FleetMemberStatus.Failed : before == after ? FleetMemberStatus.UpToDate : FleetMemberStatus.Deployed;
        var window = status == FleetMemberStatus.Deployed ? await WindowAsync(database, CancellationToken.None) : null;
        // Its first error as the build program printed it, quoted for the person reading the fleet's report.
        var error = status == FleetMemberStatus.Failed ? File.ReadLines(log).FirstOrDefault(line => line.StartsWith("[ERR] ", StringComparison.Ordinal))?[6..] : null;
        return new FleetMemberOutcome(database, wave, status, exitCode, before, after, window?.TotalSeconds, stopwatch.Elapsed.TotalSeconds, log, error);
    }

    /// Not pooled: an idle session of the fleet's on a database would stop its deployment's Backup from cloning it.
    NpgsqlConnection Unpooled(string database) => new(new NpgsqlConnectionStringBuilder(connectionStringOf(database)) { Pooling = false }.ConnectionString);

    async Task<string?> VersionAsync(string database, CancellationToken cancellationToken)
    {
        await using var connection = Unpooled(database);
        await connection.OpenAsync(cancellationToken);
        return UpgradePlanner.CurrentVersion(await HistoryTable.ReadAsync(connection, null, cancellationToken))?.ToString();
    }

    /// From fence raised to fence lifted, as the database's own journal recorded it.
    async Task<TimeSpan?> WindowAsync(string database, CancellationToken cancellationToken)
    {
        await using var connection = Unpooled(database);
        await connection.OpenAsync(cancellationToken);
        var journal = DeploymentJournal.Load(DeploymentJournal.DefaultPath(deploymentsDirectory, await DatabaseIdentity.ReadAsync(connection, cancellationToken)));
        return journal?.FenceLiftedAt - journal?.FenceRaisedAt;
    }
}

public enum FleetMemberStatus { Deployed, UpToDate, Failed, NotStarted }

/// <param name="ExitCode">The database's own deployment's exit code; its report says why.</param>
/// <param name="Error">The first error its deployment printed; the whole output is in <paramref name="Log"/>.</param>
public sealed record FleetMemberOutcome(
    string Database, int Wave, FleetMemberStatus Status, int? ExitCode, string? VersionBefore, string? VersionAfter, double? WindowSeconds, double? Seconds,
    string? Log, string? Error)
{
    public string Describe() => Status switch
    {
        FleetMemberStatus.Deployed => $"deployed {VersionBefore ?? "empty"} -> {VersionAfter}, window {WindowSeconds:0.0} s",
        FleetMemberStatus.UpToDate => $"already at {VersionAfter}",
        FleetMemberStatus.Failed => $"failed (exit {ExitCode}), at {VersionAfter ?? "no version"}: {Error ?? "see its log"} (log {Log})",
        _ => "not started: an earlier wave failed, or the run was interrupted",
    };
}

public sealed record FleetReport(string Environment, string TargetVersion, string OnFailure, DateTimeOffset FinishedAt, IReadOnlyList<FleetMemberOutcome> Databases)
{
    public int Count(FleetMemberStatus status) => Databases.Count(database => database.Status == status);

    public bool Succeeded => Count(FleetMemberStatus.Failed) + Count(FleetMemberStatus.NotStarted) == 0;

    public string Summary =>
        $"{Databases.Count} database(s): {Count(FleetMemberStatus.Deployed)} deployed, {Count(FleetMemberStatus.UpToDate)} already at {TargetVersion}, " +
        $"{Count(FleetMemberStatus.Failed)} failed, {Count(FleetMemberStatus.NotStarted)} not started";

    public string Markdown()
    {
        var text = new StringBuilder($"# Fleet deployment of {TargetVersion} to {Environment}\n\n{Summary} (on failure: {OnFailure}), {FinishedAt:yyyy-MM-dd HH:mm:ss} UTC.\n\n");
        text.Append("| database | wave | outcome | version | window | took |\n| --- | ---: | --- | --- | ---: | ---: |\n");
        foreach (var database in Databases)
            text.Append($"| {database.Database} | {database.Wave} | {database.Describe()} | {database.VersionAfter ?? ""} | {database.WindowSeconds:0.0} | {database.Seconds:0.0} |\n");
        text.Append("\nEach database's own report, journal and log say why it failed; a failed database is as it was before its deployment. ")
            .Append("Running Deploy again deploys the rest and finds the deployed ones up to date.\n");
        return text.ToString();
    }
}
