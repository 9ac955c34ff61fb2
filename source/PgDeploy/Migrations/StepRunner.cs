using Npgsql;
using PgDeploy.Migrations.PostProcessing;
using PgDeploy.Migrations.Scripts;
using PgDeploy.Progress;
using Serilog;

namespace PgDeploy.Migrations;

/// Runs one script or data step: from a clean session state, under its timeouts, and, inside a
/// transaction, from a savepoint that lets a lock timeout be retried without losing earlier work.
sealed class StepRunner(NpgsqlConnection connection, MigrationSettings settings, IWorkProgress progress)
{
    const string Savepoint = "pgdeploy_step";

    /// The statement running when a script failed, for the error message and the history.
    public SqlStatement? CurrentStatement { get; private set; }

    public async Task RunAsync(PlannedStep planned, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (transaction is not null)
                await ExecuteAsync($"SAVEPOINT {Savepoint}", transaction, cancellationToken);
            try
            {
                await PrepareSessionAsync(planned, transaction, cancellationToken);
                await (planned.Step switch
                {
                    SqlScriptStep script => RunScriptAsync(script, transaction, cancellationToken),
                    CSharpStep step => RunDataStepAsync(step, transaction, cancellationToken),
                    _ => throw new NotSupportedException(planned.Step.GetType().Name),
                });
                if (transaction is not null)
                    await ExecuteAsync($"RELEASE SAVEPOINT {Savepoint}", transaction, cancellationToken);
                return;
            }
            catch (PostgresException exception) when (transaction is not null && IsLockConflict(exception) && attempt <= settings.LockRetries)
            {
                await ExecuteAsync($"ROLLBACK TO SAVEPOINT {Savepoint}", transaction, cancellationToken);
                var delay = Backoff(attempt);
                Log.Warning("{Step}: {Reason}; retry {Attempt} of {Retries} in {Delay:0.0} s",
                    planned.Step.DisplayName, exception.MessageText, attempt, settings.LockRetries, delay.TotalSeconds);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    static bool IsLockConflict(PostgresException exception) =>
        exception.SqlState is PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.DeadlockDetected;

    static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, attempt - 1)) * (0.75 + Random.Shared.NextDouble() / 2));

    /// Each step starts as it would under a fresh psql session: what an earlier script SET, created as
    /// a temporary table or left open as a cursor does not leak into the next.
    Task PrepareSessionAsync(PlannedStep planned, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var (lockTimeout, statementTimeout) = Timeouts(planned.Step);
        var scope = transaction is null ? "" : "LOCAL ";
        var deadClientCheck = connection.PostgreSqlVersion.Major >= 14 ? "SET client_connection_check_interval = '2s';" : "";
        return ExecuteAsync(
            "RESET ALL; RESET ROLE; SET SESSION AUTHORIZATION DEFAULT; CLOSE ALL; DEALLOCATE ALL; DISCARD TEMP; " +
            $"SET {scope}lock_timeout = '{PostgresDuration.Format(lockTimeout)}'; " +
            $"SET {scope}statement_timeout = '{PostgresDuration.Format(statementTimeout)}'; {deadClientCheck}",
            transaction, cancellationToken);
    }

    (TimeSpan LockTimeout, TimeSpan StatementTimeout) Timeouts(MigrationStep step) => step switch
    {
        SqlScriptStep script => (script.Script.Directives.LockTimeout ?? settings.LockTimeout,
                                 script.Script.Directives.StatementTimeout ?? settings.ScriptStatementTimeout),
        _ => (settings.LockTimeout, settings.DataStepStatementTimeout),
    };

    async Task RunScriptAsync(SqlScriptStep step, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        foreach (var statement in step.Script.Statements)
        {
            CurrentStatement = statement;
            if (statement.CopyData is { } data)
            {
                await using var writer = await connection.BeginTextImportAsync(statement.Text, cancellationToken);
                await writer.WriteAsync(data);
                continue;
            }

            // A batch command is sent as written: a plain command would be split again by Npgsql's own
            // parser, which does not know BEGIN ATOMIC bodies.
            await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { new NpgsqlBatchCommand(statement.Text) } };
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            var rows = 0;
            do
            {
                while (await reader.ReadAsync(cancellationToken))
                    rows++;
            } while (await reader.NextResultAsync(cancellationToken));
            if (rows > 0)
                Log.Information("  line {Line}: {Kind} returned {Rows} row(s)", statement.Line, statement.Kind, rows);
        }
        CurrentStatement = null;
    }

    async Task RunDataStepAsync(CSharpStep step, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        CurrentStatement = null;
        var instance = (PostProcessStep)Activator.CreateInstance(step.StepType)!;
        Log.Information("  {Description}", instance.Description);
        await instance.ExecuteAsync(new StepContext(connection, transaction, Log.Logger, settings.DegreeOfParallelism, cancellationToken, progress, StepMode.Apply, step));
    }

    async Task ExecuteAsync(string sql, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
