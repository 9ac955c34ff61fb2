using System.Diagnostics;
using Npgsql;
using PgDeploy.Migrations.History;
using PgDeploy.Progress;
using Serilog;

namespace PgDeploy.Migrations;

/// The upgrade's one connection and its transaction. Steps applied through it stay uncommitted until
/// CommitAsync, so that Migrate, PostProcess and Verify of one process share one transaction; a
/// no-transaction script commits the work before it and runs on its own, statement by statement.
public sealed class UpgradeSession : IAsyncDisposable
{
    readonly NpgsqlConnection connection;
    readonly MigrationSettings settings;
    readonly string runId;
    readonly string appliedBy;
    readonly StepRunner runner;
    NpgsqlTransaction? transaction;
    SequenceSnapshot? sequencesAtBegin;
    readonly List<MigrationStep> committed = [];
    readonly List<MigrationStep> uncommitted = [];

    UpgradeSession(NpgsqlConnection connection, MigrationSettings settings, string runId, IWorkProgress progress)
    {
        this.connection = connection;
        this.settings = settings;
        this.runId = runId;
        appliedBy = $"{Environment.UserName}@{Environment.MachineName} as {connection.UserName}";
        runner = new StepRunner(connection, settings, progress);
    }

    public NpgsqlConnection Connection => connection;
    public NpgsqlTransaction? Transaction => transaction;
    public IReadOnlyList<MigrationStep> Committed => committed;
    public IReadOnlyList<MigrationStep> Uncommitted => uncommitted;

    /// <param name="progress">Where data steps report their rows; log lines every few seconds when null.</param>
    public static async Task<UpgradeSession> OpenAsync(
        string connectionString, string runId, MigrationSettings settings, CancellationToken cancellationToken, IWorkProgress? progress = null)
    {
        // The fence makes read-only the database's default; the runner's own session must still write,
        // and RESET ALL between scripts returns to these startup values.
        // TCP keepalives, not Npgsql's KeepAlive query: that query races the next command after a long silence (a batch of
        // passwords hashed for a minute between two FETCHes), and the race broke the upgrade's connection ("Connection is not open").
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = $"pgdeploy {runId}", Pooling = false, TcpKeepAlive = true, TcpKeepAliveTime = 30, TcpKeepAliveInterval = 10, CommandTimeout = 0,
            Options = "-c default_transaction_read_only=off",
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        connection.Notice += (_, notice) => Log.Information("  {Severity}: {Message}", notice.Notice.Severity, notice.Notice.MessageText);
        return new UpgradeSession(connection, settings, runId, progress ?? new LoggedProgress());
    }

    public async Task<IReadOnlyList<HistoryRow>> ReadHistoryAsync(CancellationToken cancellationToken) =>
        await HistoryTable.ReadAsync(connection, transaction, cancellationToken);

    public async Task ApplyAsync(IEnumerable<PlannedStep> steps, CancellationToken cancellationToken)
    {
        await EnsureHistoryTableAsync(cancellationToken);
        foreach (var planned in steps)
        {
            if (planned.OutsideTransaction)
                await CommitAsync(cancellationToken);
            else
                transaction ??= await BeginAsync(cancellationToken);

            Log.Information("{Step}{Mode}", planned.Step.DisplayName, planned.OutsideTransaction ? " (no transaction)" : "");
            var clock = Stopwatch.StartNew();
            try
            {
                await runner.RunAsync(planned, transaction, cancellationToken);
            }
            catch (Exception exception)
            {
                throw await FailAsync(planned, exception, clock.Elapsed);
            }

            await HistoryTable.AppendAsync(connection, transaction, Entry(planned.Step, clock.Elapsed, success: true), cancellationToken);
            (planned.OutsideTransaction ? committed : uncommitted).Add(planned.Step);
            Log.Debug("{Step} done in {Elapsed:0.000} s", planned.Step.DisplayName, clock.Elapsed.TotalSeconds);
        }
    }

    async Task<NpgsqlTransaction> BeginAsync(CancellationToken cancellationToken)
    {
        sequencesAtBegin = await SequenceSnapshot.TakeAsync(connection, cancellationToken);
        return await connection.BeginTransactionAsync(cancellationToken);
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (transaction is null)
            return;
        await transaction.CommitAsync(cancellationToken);
        await transaction.DisposeAsync();
        transaction = null;
        sequencesAtBegin = null;
        committed.AddRange(uncommitted);
        uncommitted.Clear();
    }

    public async Task RollbackAsync()
    {
        if (transaction is null)
            return;
        // The connection may already be broken; the server then rolls the transaction back by itself.
        var rolledBack = false;
        try
        {
            await transaction.RollbackAsync();
            rolledBack = true;
        }
        // Npgsql reports a connection that broke under the transaction (a server crash, a restart) as a disposed transaction.
        catch (Exception exception) when (exception is NpgsqlException or ObjectDisposedException)
        {
            Log.Debug(exception, "Rollback on a broken connection");
        }
        await transaction.DisposeAsync();
        transaction = null;
        uncommitted.Clear();
        if (rolledBack && sequencesAtBegin is { } sequences)
        {
            // Best effort: a failure here must not hide the failure that caused the rollback.
            try { await sequences.RestoreAsync(connection, CancellationToken.None); }
            catch (Exception exception)
            {
                Log.Warning("The rollback could not put the sequences back to their values before the upgrade (nextval is not transactional): {Error}", exception.Message);
            }
        }
        sequencesAtBegin = null;
    }

    /// The history table is created in a transaction of its own, before the upgrade's, so that a
    /// failure can be recorded after the upgrade's transaction has rolled back.
    async Task EnsureHistoryTableAsync(CancellationToken cancellationToken)
    {
        if (transaction is not null || await HistoryTable.ExistsAsync(connection, null, cancellationToken))
            return;
        await HistoryTable.EnsureCreatedAsync(connection, null, cancellationToken);
    }

    async Task<StepFailedException> FailAsync(PlannedStep planned, Exception exception, TimeSpan elapsed)
    {
        var step = planned.Step;
        var undone = planned.OutsideTransaction
            ? $"{step.DisplayName} ran outside a transaction: the statements before the failing one are committed."
            : $"The transaction was rolled back ({string.Join(", ", uncommitted.Select(done => done.DisplayName).Append(step.DisplayName))}).";
        await RollbackAsync();
        var failure = StepFailure.Describe(step, exception, runner.CurrentStatement);
        try
        {
            await HistoryTable.AppendAsync(connection, null,
                Entry(step, elapsed, success: false) with { ErrorSqlState = failure.SqlState, ErrorStatement = failure.Statement, ErrorMessage = failure.Reason },
                CancellationToken.None);
        }
        catch (Exception recordError) when (recordError is NpgsqlException or InvalidOperationException)
        {
            Log.Warning("The failure of {Step} could not be recorded in {Table}: {Error}", step.DisplayName, HistoryTable.QualifiedName, recordError.Message);
        }

        var committedText = committed.Count == 0
            ? "Nothing of this run was committed: the database is as it was before it."
            : $"Committed before the failure (commit points): {string.Join(", ", committed.Select(done => done.DisplayName))}; a re-run resumes after them, or ./build.sh Rollback restores the safe harbor.";
        return new StepFailedException(failure, undone, committedText, step, exception);
    }

    HistoryEntry Entry(MigrationStep step, TimeSpan elapsed, bool success) =>
        new(step.Version.ToString(), step.FileName, step.Kind == StepKind.Sql ? "sql" : "csharp", step.Checksum,
            (long)elapsed.TotalMilliseconds, appliedBy, runId, success);

    /// Verify reads inside the upgrade's transaction; when nothing is left open (every step committed,
    /// or Verify runs in a process of its own) it still needs one to check in and commit.
    public async Task<NpgsqlTransaction> TransactionForChecksAsync(CancellationToken cancellationToken) =>
        transaction ??= await BeginAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await RollbackAsync();
        await connection.DisposeAsync();
    }
}
