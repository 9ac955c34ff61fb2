using Dapper;
using Npgsql;
using PgDeploy.Progress;
using Serilog;

namespace PgDeploy.Migrations.PostProcessing;

/// What a post-processing step gets: the upgrade's connection and transaction, and helpers for
/// batched, set-based work that uses every core. Rows map to types by column name, snake_case to PascalCase
/// (legacy_id → LegacyId), so that a source can keep the table's own column names, which the key must.
/// <param name="step">The step being run: precomputed results are kept per step and per version of its file.</param>
public sealed class StepContext(
    NpgsqlConnection connection, NpgsqlTransaction? transaction, ILogger log, int degreeOfParallelism, CancellationToken cancellationToken,
    IWorkProgress? progress = null, StepMode mode = StepMode.Apply, CSharpStep? step = null)
{
    static StepContext() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public NpgsqlConnection Connection { get; } = connection;
    public NpgsqlTransaction? Transaction { get; } = transaction;
    public ILogger Log { get; } = log;
    public int DegreeOfParallelism { get; } = degreeOfParallelism;
    public CancellationToken CancellationToken { get; } = cancellationToken;
    /// Where a long step reports how far it is; TransformAsync reports its rows here.
    public IWorkProgress Progress { get; } = progress ?? new LoggedProgress();

    /// Apply inside the fence; before it, Precompute and Survey run the step on the schema before the upgrade, where only
    /// TransformAsync does its work: the step's own statements are skipped and its queries run read-only.
    public StepMode Mode { get; } = mode;

    internal string StepName => step?.DisplayName ?? "";

    /// Set by Precompute and Survey when the step cannot be precomputed on this database at all.
    internal string? PrecomputeProblem { get; init; }

    /// What Precompute and Survey found for each transform of the step.
    internal List<PrecomputeCoverage> Coverage { get; } = [];

    /// Before the fence a step's own statements do not run: they change the database, which is the upgrade's work, inside the window.
    public Task<int> ExecuteAsync(string sql, object? parameters = null) =>
        Mode == StepMode.Apply ? Connection.ExecuteAsync(Command(sql, parameters)) : Task.FromResult(0);

    public Task<T?> QuerySingleAsync<T>(string sql, object? parameters = null) =>
        Connection.QuerySingleOrDefaultAsync<T>(Command(sql, parameters));

    public Task<IEnumerable<T>> QueryAsync<T>(string sql, object? parameters = null) =>
        Connection.QueryAsync<T>(Command(sql, parameters));

    /// Reads the rows of `transform.Source` in batches, computes each batch in parallel on all cores,
    /// and writes the results back with a binary COPY into a temporary table and one UPDATE ... FROM.
    /// Rows that Precompute computed before the fence, and that have not changed since, take the stored results.
    public async Task<long> TransformAsync<TRow, TResult>(BatchTransform<TRow, TResult> transform)
    {
        if (Mode == StepMode.Apply)
            return await new BatchTransformRunner<TRow, TResult>(this, transform).RunAsync();
        var coverage = await new PrecomputeRunner<TRow, TResult>(this, transform).RunAsync();
        Coverage.Add(coverage);
        return coverage.Stored;
    }

    /// Where this step's transform keeps its precomputed results; none for a step run outside a plan (the benchmark's).
    internal Precomputation? Precomputation<TRow, TResult>(BatchTransform<TRow, TResult> transform) =>
        step is null || transform.SourceBeforeUpgrade is null
            ? null
            : new Precomputation(step.DisplayName, transform.Name, $"{step.Checksum}/{transform.Identity}");

    CommandDefinition Command(string sql, object? parameters) =>
        new(sql, parameters, Transaction, commandTimeout: 0, cancellationToken: CancellationToken);
}
