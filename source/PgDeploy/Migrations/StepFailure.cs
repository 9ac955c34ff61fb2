using Npgsql;
using PgDeploy.Migrations.Scripts;

namespace PgDeploy.Migrations;

/// Turns an exception from a step into what the operator and the history need: where, what, and what to do.
sealed record StepFailure(string Headline, string Reason, string? SqlState, string? Statement, string Remedy)
{
    const int StatementLengthInMessage = 300;

    public static StepFailure Describe(MigrationStep step, Exception exception, SqlStatement? statement)
    {
        var postgres = exception as PostgresException ?? exception.InnerException as PostgresException;
        var statementText = statement?.Text ?? postgres?.BatchCommand?.CommandText;
        var where = statement is null ? step.DisplayName : $"{step.DisplayName} at line {statement.Line}";
        if (exception is OperationCanceledException)
            return new($"{where} was interrupted.", "aborted by the operator", null, statementText, "Run the deployment again when ready.");
        if (postgres is null && exception is NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException })
            return new($"{where} failed: the connection to the server was lost ({exception.Message.TrimEnd('.')}); the server rolls back what was not committed.",
                "connection lost", null, statementText, "Check that the server is up and reachable, then run the same command again.");
        if (postgres is null)
            return new($"{where} failed: {exception.Message}", exception.Message, null, statementText, "Fix the step and run again.");

        var reason = $"{postgres.SqlState}: {postgres.MessageText}";
        var shown = statementText is null ? "" : $" Statement: {Shorten(statementText).TrimEnd(';', ' ')}.";
        return new($"{where} failed with {reason}.{Hint(postgres)}{shown}", reason, postgres.SqlState, statementText, RemedyFor(postgres));
    }

    static string Hint(PostgresException postgres) => postgres.Hint is { Length: > 0 } hint ? $" Hint: {hint}." : "";

    static string RemedyFor(PostgresException postgres) => postgres.SqlState switch
    {
        PostgresErrorCodes.LockNotAvailable =>
            "Another session kept a lock longer than lock_timeout, through every retry: find it in pg_stat_activity and pg_locks, end it, and run again.",
        PostgresErrorCodes.QueryCanceled =>
            "The statement ran longer than its statement_timeout: if it legitimately needs longer, add `-- deploy:statement-timeout 1h` to the script's leading comments.",
        PostgresErrorCodes.DeadlockDetected =>
            "It deadlocked with another session through every retry: find the other session in pg_stat_activity, stop it, and run again.",
        _ => "Fix the script (or add a new one) and run again.",
    };

    static string Shorten(string text)
    {
        var oneLine = string.Join(' ', text.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(part => part.Trim()));
        return oneLine.Length <= StatementLengthInMessage ? oneLine : oneLine[..StatementLengthInMessage] + " ...";
    }
}
