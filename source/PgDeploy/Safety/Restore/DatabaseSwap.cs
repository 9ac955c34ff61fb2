using System.Diagnostics;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;
using Serilog;

namespace PgDeploy.Safety;

/// <summary>
/// Swaps a restored database in under the original's name, keeping the original under a forensic name. PostgreSQL allows
/// ALTER DATABASE … RENAME in a transaction block (checked on 15), so both renames happen in one transaction: either the
/// restored database has the name and the original is kept aside, or nothing changed. A rename needs no session on either
/// database, so their sessions are ended first; one that connects in between makes the rename fail, and it is tried again.
/// </summary>
static class DatabaseSwap
{
    static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(250);

    /// <param name="maintenance">A session on another database (postgres); it must not be on either of the two.</param>
    public static async Task SwapAsync(
        NpgsqlConnection maintenance, string original, string restored, string failed, TimeSpan sessionEndTimeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            await using var transaction = await maintenance.BeginTransactionAsync(cancellationToken);
            try
            {
                await EndSessionsAsync(maintenance, original, restored, cancellationToken);
                await SafetyConnection.ExecuteAsync(maintenance, $"ALTER DATABASE {DatabaseAdmin.QuoteIdentifier(original)} RENAME TO {DatabaseAdmin.QuoteIdentifier(failed)}", cancellationToken);
                await SafetyConnection.ExecuteAsync(maintenance, $"ALTER DATABASE {DatabaseAdmin.QuoteIdentifier(restored)} RENAME TO {DatabaseAdmin.QuoteIdentifier(original)}", cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return;
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.ObjectInUse)
            {
                await transaction.RollbackAsync(cancellationToken);
                if (clock.Elapsed >= sessionEndTimeout)
                {
                    throw new DeploymentException(
                        $"Sessions on '{original}' or '{restored}' kept reconnecting, or were not this role's to end, for {sessionEndTimeout.TotalSeconds:0} s, "
                        + $"so the restored database could not take the name '{original}': {await DescribeSessionsAsync(maintenance, original, restored, cancellationToken)}. "
                        + "Stop what connects: the application, a connection pooler, an open psql (a role that is no superuser ends other roles' sessions "
                        + "only with GRANT pg_signal_backend, and a superuser's never).");
                }

                Log.Debug("Attempt {Attempt} to swap {Restored} in for {Original} met a session: {Reason}", attempt, restored, original, exception.MessageText);
                await Task.Delay(RetryPause, cancellationToken);
            }
        }
    }

    // PostgreSQL 14+ waits for each ended session to be gone; before 14 the retry loop waits instead. A runner that is no superuser
    // may end only the sessions of roles whose privileges it has, or any but a superuser's with pg_signal_backend; asking for more
    // would fail the whole swap, so the others are left to the retry loop, which names them if they stay.
    static Task EndSessionsAsync(NpgsqlConnection connection, string first, string second, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            $"SELECT pg_terminate_backend(a.pid{(connection.PostgreSqlVersion.Major >= 14 ? ", 5000" : "")}) FROM pg_stat_activity a "
            + "LEFT JOIN pg_roles r ON r.oid = a.usesysid "
            + "WHERE a.datname IN (@first, @second) AND a.pid <> pg_backend_pid() "
            + "AND ((SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
            + "OR (NOT r.rolsuper AND (pg_has_role(r.oid, 'USAGE') OR pg_has_role('pg_signal_backend', 'USAGE'))))",
            new { first, second }, cancellationToken: cancellationToken));

    /// <summary>The sessions on either database, by pid, database, user, application and client, for a message to the operator.</summary>
    internal static async Task<string> DescribeSessionsAsync(NpgsqlConnection connection, string first, string second, CancellationToken cancellationToken)
    {
        var sessions = await connection.QueryAsync<(int Pid, string Database, string? User, string? Application, string? Client)>(new CommandDefinition(
            "SELECT pid, datname, usename, application_name, host(client_addr) FROM pg_stat_activity WHERE datname IN (@first, @second) AND pid <> pg_backend_pid()",
            new { first, second }, cancellationToken: cancellationToken));
        var described = sessions.Select(session =>
            $"pid {session.Pid} on {session.Database} (user {session.User}, '{session.Application}', from {session.Client ?? "a local socket"})").ToList();
        return described.Count > 0 ? string.Join("; ", described) : "none is left now";
    }
}
