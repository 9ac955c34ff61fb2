using Dapper;
using Npgsql;
using PgDeploy.Progress;
using Serilog;

namespace PgDeploy.Migrations.PostProcessing;

/// What a post-processing step gets: the upgrade's connection and transaction, and helpers for
/// batched, set-based work that uses every core.
public sealed class StepContext(
    NpgsqlConnection connection, NpgsqlTransaction? transaction, ILogger log, int degreeOfParallelism, CancellationToken cancellationToken,
    IWorkProgress? progress = null)
{
    public NpgsqlConnection Connection { get; } = connection;
    public NpgsqlTransaction? Transaction { get; } = transaction;
    public ILogger Log { get; } = log;
    public int DegreeOfParallelism { get; } = degreeOfParallelism;
    public CancellationToken CancellationToken { get; } = cancellationToken;
    /// Where a long step reports how far it is; TransformAsync reports its rows here.
    public IWorkProgress Progress { get; } = progress ?? new LoggedProgress();

    public Task<int> ExecuteAsync(string sql, object? parameters = null) =>
        Connection.ExecuteAsync(Command(sql, parameters));

    public Task<T?> QuerySingleAsync<T>(string sql, object? parameters = null) =>
        Connection.QuerySingleOrDefaultAsync<T>(Command(sql, parameters));

    public Task<IEnumerable<T>> QueryAsync<T>(string sql, object? parameters = null) =>
        Connection.QueryAsync<T>(Command(sql, parameters));

    /// Reads the rows of `transform.Source` in batches, computes each batch in parallel on all cores,
    /// and writes the results back with a binary COPY into a temporary table and one UPDATE ... FROM.
    public Task<long> TransformAsync<TRow, TResult>(BatchTransform<TRow, TResult> transform) =>
        new BatchTransformRunner<TRow, TResult>(this, transform).RunAsync();

    CommandDefinition Command(string sql, object? parameters) =>
        new(sql, parameters, Transaction, commandTimeout: 0, cancellationToken: CancellationToken);
}
