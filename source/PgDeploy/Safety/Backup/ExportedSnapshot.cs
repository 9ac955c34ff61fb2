using System.Data;
using System.Globalization;
using Npgsql;

namespace PgDeploy.Safety;

/// <summary>
/// A REPEATABLE READ, READ ONLY transaction held open while pg_dump runs: its snapshot is exported (pg_export_snapshot) and
/// handed to pg_dump --snapshot, and the row counts are taken in the same transaction, so the counts in the manifest are those
/// of exactly the data in the dump even if a write slipped past the fence. The exporting transaction must stay open until pg_dump
/// (and each of its parallel workers) has imported the snapshot; it is held until the dump ends.
/// </summary>
sealed class ExportedSnapshot : IAsyncDisposable
{
    readonly NpgsqlTransaction transaction;

    ExportedSnapshot(NpgsqlConnection connection, NpgsqlTransaction transaction, string id)
    {
        Connection = connection;
        this.transaction = transaction;
        Id = id;
    }

    /// <summary>The session holding the snapshot; queries on it see the snapshot's data.</summary>
    public NpgsqlConnection Connection { get; }

    public string Id { get; }

    /// <param name="lockWaitTimeout">The counts lock each table like pg_dump does, and give up as soon as it would.</param>
    public static async Task<ExportedSnapshot> ExportAsync(string connectionString, TimeSpan lockWaitTimeout, CancellationToken cancellationToken)
    {
        var connection = await SafetyConnection.OpenAsync(connectionString, null, cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
            var milliseconds = ((long)lockWaitTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
            // An idle-in-transaction timeout set on the server would end this session, and the snapshot with it, while pg_dump still needs it.
            await using var command = new NpgsqlCommand(
                $"SET TRANSACTION READ ONLY; SET LOCAL lock_timeout = {milliseconds}; SET LOCAL idle_in_transaction_session_timeout = 0; "
                + "SELECT pg_export_snapshot()", connection, transaction);
            var id = (string)(await command.ExecuteScalarAsync(cancellationToken))!;
            return new ExportedSnapshot(connection, transaction, id);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
