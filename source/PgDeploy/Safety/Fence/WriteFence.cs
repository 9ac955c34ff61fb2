using Dapper;
using Npgsql;
using PgDeploy.Environments;

namespace PgDeploy.Safety.Fence;

/// Keeps the application's roles from writing while the database is upgraded: they become NOLOGIN (or, with fence.scope
/// database, lose CONNECT on this database only), their sessions on the database are ended, and new sessions are read-only
/// by default as a guard rail.
/// The fence lives in the catalog, with its record in the database comment (see FenceRecordStore), so it
/// outlives the runner: a crashed deployment leaves it up, and MaintenanceOff lifts it later.
public sealed class WriteFence(string connectionString, FenceSettings settings)
{
    readonly IReadOnlyList<string> roles = [.. settings.Roles.Distinct(StringComparer.Ordinal)];
    readonly FenceScope scope = settings.Scope ?? FenceScope.Roles;

    /// Whether the fence can hold, checked without changing anything; the Prerequisites target calls it.
    public async Task<FenceCheck> CheckAsync(CancellationToken cancellationToken)
    {
        await using var connection = await RunnerConnection.OpenAsync(connectionString, "fence check", cancellationToken);
        return await FencePrerequisites.CheckAsync(connection, roles, scope, cancellationToken);
    }

    /// Raises the fence, or completes one already up (raising twice is safe), then ends the
    /// application's sessions. The catalog changes commit together before any session is ended, so a
    /// failure while draining leaves a whole fence up, which a second raise finishes.
    public async Task<FenceRaised> RaiseAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await RunnerConnection.OpenAsync(connectionString, $"fence {runId}", cancellationToken);
        var check = await FencePrerequisites.CheckAsync(connection, roles, scope, cancellationToken);
        check.ThrowIfCannotHold();

        var database = check.Database;
        FenceRecord record;
        bool wasAlreadyUp;
        IReadOnlyList<FencedRole> fenced;
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var stored = await FenceRecordStore.ReadAsync(connection, transaction, cancellationToken);
            wasAlreadyUp = stored.Record is not null;
            string[] disabledNow = [], revokedNow = [];
            if (scope == FenceScope.Database)
            {
                (fenced, var problems) = await DatabaseConnect.RevokeAsync(connection, transaction, database, roles, cancellationToken);
                // Checked before the commit: a fence that would not hold is rolled back, never left half up.
                new FenceCheck(database, problems).ThrowIfCannotHold();
                revokedNow = [.. fenced.Where(role => role.CouldLogInBefore).Select(role => role.Name)];
            }
            else
            {
                fenced = await RoleLogins.DisableAsync(connection, transaction, roles, cancellationToken);
                disabledNow = [.. fenced.Where(role => role.CouldLogInBefore).Select(role => role.Name)];
            }

            record = stored.Record is { } existing
                ? existing with
                {
                    DisabledRoles = [.. existing.DisabledRoles.Union(disabledNow)],
                    RevokedConnect = existing.RevokedConnect is null && revokedNow.Length == 0 ? null : [.. (existing.RevokedConnect ?? []).Union(revokedNow)],
                }
                : new FenceRecord(runId, await ServerTimeAsync(connection, transaction, cancellationToken), disabledNow,
                    await ReadOnlyGuardRail.ReadDatabaseValueAsync(connection, transaction, cancellationToken), stored.OtherComment,
                    scope == FenceScope.Database ? revokedNow : null);
            await ReadOnlyGuardRail.RaiseAsync(connection, transaction, database, cancellationToken);
            await FenceRecordStore.WriteAsync(connection, transaction, database, record, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        var ended = await SessionDrain.DrainAsync(connection, database, roles, settings.SessionDrainTimeout, cancellationToken);
        return new FenceRaised(database, record, wasAlreadyUp, fenced, ended);
    }

    /// Gives LOGIN back to exactly the roles the fence disabled, restores the database's read-only
    /// default and comment, and removes the record; lifting when no fence is up changes nothing.
    public async Task<FenceLifted> LiftAsync(CancellationToken cancellationToken)
    {
        await using var connection = await RunnerConnection.OpenAsync(connectionString, "fence lift", cancellationToken);
        var database = await CurrentDatabaseAsync(connection, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if ((await FenceRecordStore.ReadAsync(connection, transaction, cancellationToken)).Record is not { } record)
            return new FenceLifted(database, null, [], []);

        IReadOnlyList<string> missing;
        try
        {
            missing = [.. await RoleLogins.EnableAsync(connection, transaction, record.DisabledRoles, cancellationToken),
                       .. await DatabaseConnect.GrantAsync(connection, transaction, database, record.RevokedConnect ?? [], cancellationToken)];
            await ReadOnlyGuardRail.RestoreAsync(connection, transaction, database, record.PreviousReadOnlyDefault, cancellationToken);
            await FenceRecordStore.RemoveAsync(connection, transaction, database, record, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // Lifting is often done by hand, by whoever is at hand: no prerequisite check ran before it.
            throw new DeploymentException(
                $"The write fence on database '{database}' cannot be lifted by '{connection.UserName}': {exception.MessageText}. Nothing was changed, the fence is still up. " +
                "Run MaintenanceOff with the deployment's connection (a role that owns the database and has CREATEROLE, or a superuser).", exception);
        }
        return new FenceLifted(database, record, [.. record.FencedRoles.Except(missing)], missing);
    }

    public async Task<FenceStatus> StatusAsync(CancellationToken cancellationToken)
    {
        await using var connection = await RunnerConnection.OpenAsync(connectionString, "fence status", cancellationToken);
        var stored = await FenceRecordStore.ReadAsync(connection, null, cancellationToken);
        return new FenceStatus(await CurrentDatabaseAsync(connection, cancellationToken), stored.Record);
    }

    static async Task<string> CurrentDatabaseAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        (await connection.ExecuteScalarAsync<string>(new CommandDefinition("SELECT current_database()", cancellationToken: cancellationToken)))!;

    static async Task<DateTimeOffset> ServerTimeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        new(await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition("SELECT now()", transaction: transaction, cancellationToken: cancellationToken)));
}
