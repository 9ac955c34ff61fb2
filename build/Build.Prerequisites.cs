using Npgsql;
using PgDeploy;
using PgDeploy.Migrations;
using PgDeploy.Migrations.History;
using PgDeploy.Reporting;
using PgDeploy.Safety;
using PgDeploy.Safety.Fence;
using Spectre.Console;

partial class Build
{
    /// Relative to the repository root unless the settings give an absolute path.
    string BackupDirectory => Path.Combine(RootDirectory, TargetEnvironment.Settings.Backup.Directory);

    async Task CheckPrerequisitesAsync(CancellationToken cancellationToken)
    {
        // An unknown environment is refused before a journal is written for it.
        _ = TargetEnvironment;
        journal = PgDeploy.Reporting.DeploymentJournal.Start(JournalPath, NewRunId(), TargetEnv);
        var preflight = new Preflight();
        var connection = await ConnectionStringAsync(cancellationToken);
        await preflight.CheckAsync("connection", () => DescribeServerAsync(connection, cancellationToken));
        await preflight.CheckAsync("migrations", () => DescribePlanAsync(connection, cancellationToken));
        await preflight.CheckAsync("deployment lock", async () => { await LockAsync(cancellationToken); return "was free; held by this run until it ends"; });
        await preflight.CheckAsync("disk space", () => DiskSpace.CheckRoomForBackupAsync(connection, BackupDirectory, cancellationToken));
        await preflight.CheckAsync("client tools", () => new SafeHarborBackup(BackupSettings, SafeHarborOptions).CheckClientToolsAsync(connection, cancellationToken));
        if (BackupFile is { } given)
            await preflight.CheckAsync("given safe harbor", async () =>
                (await new SafeHarborBackup(BackupSettings, SafeHarborOptions).AcceptGivenAsync(given, connection, TargetEnv, cancellationToken)).Manifest.FileName);
        await preflight.CheckAsync("rights to restore", async () => { await SafeHarborRestore.CheckPrerequisitesAsync(connection, cancellationToken); return "may create and rename the database"; });
        await preflight.CheckAsync("write fence", () => CheckFenceAsync(cancellationToken));
        DeploymentJournal.Checks.AddRange(preflight.Checks);
        DeploymentJournal.Save();
        preflight.ThrowIfFailed();
        ConfirmProduction();
        ReportSummary($"{preflight.Checks.Count} checks passed");
    }

    async Task<string> CheckFenceAsync(CancellationToken cancellationToken)
    {
        if (TargetEnvironment.Settings.Fence.Roles.Count == 0)
            return TargetEnvironment.Settings.Production
                ? throw new DeploymentException(
                    $"'{TargetEnv}' is a production environment but names no application roles to fence (fence.roles in {TargetEnvironment.SettingsFile}): " +
                    "without a fence the application could write during the upgrade and those writes would be lost on a rollback. Name the roles the application connects as.")
                : "no application roles named: not fenced (allowed outside production)";
        var check = await new WriteFence(await ConnectionStringAsync(cancellationToken), TargetEnvironment.Settings.Fence).CheckAsync(cancellationToken);
        check.ThrowIfCannotHold();
        return $"can fence {string.Join(", ", TargetEnvironment.Settings.Fence.Roles)}";
    }

    async Task<string> DescribeServerAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        DeploymentJournal.Database = connection.Database;
        return $"PostgreSQL {connection.PostgreSqlVersion} at {connection.Host}:{connection.Port}, database {connection.Database} as {connection.UserName}";
    }

    async Task<string> DescribePlanAsync(string connectionString, CancellationToken cancellationToken)
    {
        if (Version is null)
            throw new DeploymentException("No --version given: name the application version to deploy, e.g. --version 0.4.");
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var plan = UpgradePlanner.Plan(Catalog, await HistoryTable.ReadAsync(connection, null, cancellationToken), TargetVersion, RunId);
        if (plan.IsEmpty)
            throw new DeploymentException($"Database {connection.Database} is already at {plan.CurrentVersion}: there is nothing to deploy for --version {TargetVersion}.");
        DeploymentJournal.FromVersion = plan.CurrentVersion?.ToString();
        DeploymentJournal.TargetVersion = TargetVersion.ToString();
        return $"{plan.CurrentVersion?.ToString() ?? "empty"} -> {TargetVersion}: {plan.Steps.Count} step(s) in {plan.PendingVersions.Count} version(s)";
    }

    /// Production waits for an explicit "y"; without a terminal only --yes (in CI: after the protected
    /// environment's reviewers approved) lets it go on.
    void ConfirmProduction()
    {
        if (!TargetEnvironment.Settings.Production || Yes)
            return;
        var what = $"deploy {TargetVersion} to '{TargetEnv}' (database {DeploymentJournal.Database})";
        if (!IsInteractive)
            throw new DeploymentException(
                $"'{TargetEnv}' is a production environment and there is no terminal to confirm: refusing to {what}. " +
                "Pass --yes when the deployment was approved (in CI, by the protected environment's reviewers); nothing was changed.");
        var answer = AnsiConsole.Ask<string>($"[yellow]Type y to {Markup.Escape(what)}:[/]");
        if (!answer.Trim().Equals("y", StringComparison.OrdinalIgnoreCase))
            throw new DeploymentException($"Not confirmed (answer '{answer}'); nothing was changed.");
    }
}
