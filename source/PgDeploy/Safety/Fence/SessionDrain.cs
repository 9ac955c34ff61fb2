using Dapper;
using Npgsql;

namespace PgDeploy.Safety.Fence;

/// Ends the application roles' sessions on the database and waits until none remains. NOLOGIN goes
/// first, so that an ended session cannot come back; the runner's own session is never ended.
static class SessionDrain
{
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public static async Task<IReadOnlyList<AppSession>> DrainAsync(
        NpgsqlConnection connection, string database, IReadOnlyList<string> roles, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var ended = new Dictionary<int, AppSession>();
        // Why a session could not be ended, by pid; a session signalled once is not signalled again.
        var refusals = new Dictionary<int, string?>();
        while (true)
        {
            var remaining = await ListAsync(connection, roles, cancellationToken);
            if (remaining.Count == 0)
                return [.. ended.Values];
            foreach (var session in remaining.Where(session => !refusals.ContainsKey(session.Pid)))
            {
                refusals[session.Pid] = await TerminateAsync(connection, session.Pid, cancellationToken);
                if (refusals[session.Pid] is null)
                    ended[session.Pid] = session;
            }
            if (DateTime.UtcNow >= deadline)
                throw new DeploymentException(
                    $"{remaining.Count} session(s) of the application's roles are still connected to database '{database}' after {timeout.TotalSeconds:0.#} s: " +
                    string.Join("; ", remaining.Select(session => refusals[session.Pid] is { } refusal ? $"{session}, which the runner may not end: {refusal}" : $"{session}")) +
                    ". The fence is up, so these roles cannot log in again, but these sessions can still write. Stop the application or its connection pooler, " +
                    "or end the sessions as a superuser with SELECT pg_terminate_backend(<pid>), then run MaintenanceOn again; ./build.sh MaintenanceOff lifts the fence.");
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    static async Task<IReadOnlyList<AppSession>> ListAsync(NpgsqlConnection connection, IReadOnlyList<string> roles, CancellationToken cancellationToken)
    {
        // client_port is -1 for a Unix socket and null when the runner may not see the session's details.
        var sessions = await connection.QueryAsync<AppSession>(new CommandDefinition(
            """
            SELECT pid AS Pid, usename AS Role, application_name AS ApplicationName,
                   CASE WHEN client_port = -1 THEN 'local socket' ELSE host(client_addr) END AS Client, state AS State
            FROM pg_stat_activity
            WHERE datname = current_database() AND usename = ANY(@roles) AND pid <> pg_backend_pid()
            ORDER BY pid
            """, new { roles = roles.ToArray() }, cancellationToken: cancellationToken));
        return sessions.ToList();
    }

    /// Signals the session to end and returns null, or the server's reason for refusing.
    static async Task<string?> TerminateAsync(NpgsqlConnection connection, int pid, CancellationToken cancellationToken)
    {
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_terminate_backend(@pid)", new { pid }, cancellationToken: cancellationToken));
            return null;
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            return exception.MessageText;
        }
    }
}
