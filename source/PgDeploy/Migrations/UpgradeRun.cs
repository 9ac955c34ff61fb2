using Npgsql;
using PgDeploy.Migrations.Analysis;
using PgDeploy.Migrations.History;
using PgDeploy.Progress;
using Serilog;

namespace PgDeploy.Migrations;

/// One run of the upgrade in this process: it takes the deployment lock (unless the caller already holds
/// it for the whole deployment), plans against the history, and applies the plan phase by phase through
/// one session, committing only when told to.
public sealed class UpgradeRun(
    string connectionString, MigrationCatalog catalog, AppVersion target, MigrationSettings settings, string runId, DeploymentLock? heldLock = null,
    IWorkProgress? progress = null)
    : IAsyncDisposable
{
    DeploymentLock? ownLock;
    UpgradeSession? session;
    UpgradePlan? plan;

    public string RunId => runId;
    public AppVersion Target => target;
    public UpgradeSession? Session => session;

    /// <param name="linter">Given (by the Plan target), the plan is shown with each script's findings under it.</param>
    public async Task<UpgradePlan> PlanAsync(CancellationToken cancellationToken, ScriptLinter? linter = null)
    {
        if (plan is not null)
            return plan;
        if (heldLock is null)
            ownLock ??= await DeploymentLock.AcquireAsync(connectionString, runId, settings.DeploymentLockWait, cancellationToken);
        session ??= await UpgradeSession.OpenAsync(connectionString, runId, settings, cancellationToken, progress);
        await RefuseUnknownDatabaseAsync(session.Connection, cancellationToken);
        plan = UpgradePlanner.Plan(catalog, await session.ReadHistoryAsync(cancellationToken), target, runId);
        var lint = linter is null ? null : await linter.LintAsync(plan, catalog, session.Connection.PostgreSqlVersion, cancellationToken);
        Log.Information("{Plan}", plan.Describe(lint?.Findings));
        if (lint is not null)
            Log.Information("Lint: {Figure}", lint.Figure);
        return plan;
    }

    /// Applies the steps of one phase. With commit false the work stays in the open transaction, for a
    /// later phase or Verify of this same process to commit.
    public async Task<IReadOnlyList<MigrationStep>> ApplyAsync(UpgradePhase phase, bool commit, CancellationToken cancellationToken)
    {
        var steps = (await PlanAsync(cancellationToken)).StepsOf(phase).ToList();
        if (steps.Count == 0)
            Log.Information("Nothing to {Phase}: {Reason}", phase, plan!.IsEmpty ? $"the database is already at {target}" : $"no {phase} steps in the plan");
        await session!.ApplyAsync(steps, cancellationToken);
        if (commit)
            await CommitAsync(cancellationToken);
        return steps.Select(planned => planned.Step).ToList();
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (session is { Uncommitted.Count: > 0 })
            Log.Information("Committing {Count} step(s): {Steps}", session.Uncommitted.Count, string.Join(", ", session.Uncommitted.Select(step => step.DisplayName)));
        if (session is not null)
            await session.CommitAsync(cancellationToken);
    }

    /// A database with objects but no history was deployed by other means: planning from scratch would
    /// run every script against a schema that already has them.
    static async Task RefuseUnknownDatabaseAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (await HistoryTable.ExistsAsync(connection, null, cancellationToken))
            return;
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'",
            connection);
        if ((long)(await command.ExecuteScalarAsync(cancellationToken))! > 0)
            throw new DeploymentRefusedException(
                $"Database '{connection.Database}' has tables but no deployment history ({HistoryTable.QualifiedName}): it was set up without this tool. " +
                "Adopt it first with ./build.sh Baseline --version <the version it is at>; nothing was changed.");
    }

    public async ValueTask DisposeAsync()
    {
        if (session is not null)
            await session.DisposeAsync();
        if (ownLock is not null)
            await ownLock.DisposeAsync();
    }
}
