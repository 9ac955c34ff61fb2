using System.Diagnostics;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;
using PgDeploy.Progress;

namespace PgDeploy.Migrations.PostProcessing;

/// <summary>
/// Runs a transform before the fence, while the application still writes. Precompute reads the rows not yet stored in
/// batches, each in a short transaction of its own (no snapshot held for hours, and a killed run resumes where it
/// stopped), and stores each result with the digest of the row it was computed from, read in the same statement.
/// Survey counts the rows whose stored result still matches, and times a small sample of the rest.
/// </summary>
sealed class PrecomputeRunner<TRow, TResult>(StepContext context, BatchTransform<TRow, TResult> transform)
{
    const string DigestColumn = "pgdeploy_digest";

    string Key => DatabaseAdmin.QuoteIdentifier(transform.KeyColumn);
    string Before => transform.SourceBeforeUpgrade!;
    NpgsqlConnection Connection => context.Connection;
    CancellationToken CancellationToken => context.CancellationToken;

    public async Task<PrecomputeCoverage> RunAsync()
    {
        var step = context.StepName;
        if (context.Precomputation(transform) is not { } precomputation)
        {
            if (context.Mode == StepMode.Precompute)
                context.Log.Information("  {Name}: not precomputable (it declares no SourceBeforeUpgrade); it is computed inside the window", transform.Name);
            return new PrecomputeCoverage(step, transform.Name, false, 0, 0, 0);
        }
        if (context.PrecomputeProblem is { } pending)
            return new PrecomputeCoverage(step, transform.Name, true, 0, 0, 0, pending);
        try
        {
            if (context.Mode == StepMode.Precompute)
                await PrecomputeAsync(precomputation);
            return await SurveyAsync(precomputation, step);
        }
        // A source that fails on this database costs the window its rows, not the deployment: they are computed inside it.
        catch (PostgresException exception)
        {
            var problem = $"its SourceBeforeUpgrade fails on this database ({exception.MessageText})";
            context.Log.Warning("  {Name}: not precomputed: {Problem}", transform.Name, problem);
            return new PrecomputeCoverage(step, transform.Name, true, 0, 0, 0, problem);
        }
    }

    async Task PrecomputeAsync(Precomputation precomputation)
    {
        await precomputation.EnsureCreatedAsync(Connection, Before, transform.KeyColumn, CancellationToken);
        var changed = await WriteAsync(
            $"DELETE FROM {precomputation.Table} AS stored WHERE NOT EXISTS " +
            $"(SELECT 1 FROM ({Before}) AS source WHERE {Precomputation.Matches(transform.KeyColumn)})");
        if (changed > 0)
            context.Log.Information("  {Name}: {Changed:N0} stored results are of rows changed or deleted since; they are computed again", transform.Name, changed);
        var missing = $"FROM ({Before}) AS source WHERE NOT EXISTS (SELECT 1 FROM {precomputation.Table} AS stored WHERE stored.key = source.{Key})";
        var total = await Connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) {missing}", commandTimeout: 0, cancellationToken: CancellationToken));
        var kept = await Connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM {precomputation.Table}", cancellationToken: CancellationToken));
        context.Log.Information("  {Name}: {Kept:N0} rows stored by an earlier run are still current; {Total:N0} to compute", transform.Name, kept, total);

        using var progress = context.Progress.Begin(new LongWork($"Precompute {transform.Name}", WorkUnit.Rows, total));
        var compute = new ParallelCompute<TRow, TResult>(transform.Compute, context.DegreeOfParallelism, progress, CancellationToken);
        object? last = null;
        while (true)
        {
            // The digest comes from the same statement as the row: a row the application changes meanwhile gets a new digest and misses.
            var after = last is null ? "" : $"AND source.{Key} > @last";
            var batch = (await Connection.QueryAsync<TRow, byte[], (TRow Row, byte[] Digest)>(new CommandDefinition(
                    $"SELECT source.*, {Precomputation.Digest("source")} AS {DigestColumn} {missing} {after} ORDER BY source.{Key} LIMIT {transform.BatchSize}",
                    new { last }, commandTimeout: 0, cancellationToken: CancellationToken),
                (row, digest) => (row, digest), splitOn: DigestColumn)).ToList();
            if (batch.Count == 0)
                break;
            var results = compute.Run(batch.Select(entry => entry.Row).ToList());
            await StoreAsync(precomputation, results, batch.Select(entry => entry.Digest).ToArray());
            last = ResultTuple.Of(results[^1], transform.Name, transform.Columns)[0];
        }
        progress.Report(compute.Computed);
        progress.Complete();
    }

    /// One short read-write transaction per batch: the step's own session is read-only by default before the fence.
    async Task StoreAsync(Precomputation precomputation, TResult[] results, byte[][] digests)
    {
        var tuples = results.Select(result => ResultTuple.Of(result, transform.Name, transform.Columns)).ToList();
        var columns = Enumerable.Range(0, transform.Columns.Count + 1).Select(index => TypedArray(tuples.Select(tuple => tuple[index]).ToList())).ToList();
        var values = string.Join(", ", Enumerable.Range(1, transform.Columns.Count).Select(index => $"v{index}::text"));
        var names = string.Join(", ", Enumerable.Range(1, transform.Columns.Count).Select(index => $"v{index}"));
        await using var transaction = await Precomputation.BeginWritableAsync(Connection, CancellationToken);
        await using var command = new NpgsqlCommand(
            $"INSERT INTO {precomputation.Table} (key, digest, result) " +
            $"SELECT k, d, ARRAY[{values}] FROM unnest($1, $2, {string.Join(", ", Enumerable.Range(3, transform.Columns.Count).Select(index => $"${index}"))}) AS u(k, d, {names}) " +
            "ON CONFLICT (key) DO UPDATE SET digest = excluded.digest, result = excluded.result", Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = columns[0] });
        command.Parameters.Add(new NpgsqlParameter { Value = digests });
        foreach (var column in columns.Skip(1))
            command.Parameters.Add(new NpgsqlParameter { Value = column });
        await command.ExecuteNonQueryAsync(CancellationToken);
        await transaction.CommitAsync(CancellationToken);
    }

    /// An array of the values' own type, so that Npgsql sends it as that PostgreSQL type and the server renders each value
    /// as its text form, which casts back exactly to the target column inside the fence.
    static Array TypedArray(IReadOnlyList<object?> values)
    {
        var type = values.FirstOrDefault(value => value is not null)?.GetType() ?? typeof(string);
        if (type.IsValueType && values.Any(value => value is null))
            type = typeof(Nullable<>).MakeGenericType(type);
        var array = Array.CreateInstance(type, values.Count);
        for (var index = 0; index < values.Count; index++)
            array.SetValue(values[index], index);
        return array;
    }

    async Task<PrecomputeCoverage> SurveyAsync(Precomputation precomputation, string step)
    {
        var usable = await precomputation.UsableAsync(Connection, context.Transaction, CancellationToken);
        var matched = usable
            ? $"count(stored.key) FROM ({Before}) AS source LEFT JOIN {precomputation.Table} AS stored ON {Precomputation.Matches(transform.KeyColumn)}"
            : $"0::bigint FROM ({Before}) AS source";
        var (rows, stored) = await Connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
            $"SELECT count(*), {matched}", transaction: context.Transaction, commandTimeout: 0, cancellationToken: CancellationToken));
        var seconds = await EstimateAsync(rows - stored, usable ? precomputation : null);
        return new PrecomputeCoverage(step, transform.Name, true, rows, stored, seconds);
    }

    /// Times the computation of a few of the rows left (two per core), and scales it to all of them. One row per core is
    /// computed first, untimed: the first computation pays for loading and compiling the code (Argon2: most of a second).
    async Task<double> EstimateAsync(long left, Precomputation? usable)
    {
        if (left == 0)
            return 0;
        var cores = context.DegreeOfParallelism;
        var notStored = usable is null ? "" : $"WHERE NOT {usable.HoldsCurrent(transform.KeyColumn)}";
        var rows = (await Connection.QueryAsync<TRow>(new CommandDefinition(
            $"SELECT source.* FROM ({Before}) AS source {notStored} LIMIT {3 * cores}",
            transaction: context.Transaction, commandTimeout: 0, cancellationToken: CancellationToken))).ToList();
        using var quiet = new LoggedProgress(TimeSpan.MaxValue).Begin(new LongWork("sample", WorkUnit.Rows, rows.Count));
        var compute = new ParallelCompute<TRow, TResult>(transform.Compute, cores, quiet, CancellationToken);
        // So few rows that none is left to time once warm: their time with the warm-up is the (generous) estimate.
        var sample = rows.Count > cores ? rows.Skip(cores).ToList() : rows;
        if (rows.Count > cores)
            compute.Run(rows.Take(cores).ToList());
        var clock = Stopwatch.StartNew();
        compute.Run(sample);
        return clock.Elapsed.TotalSeconds * left / sample.Count;
    }

    async Task<int> WriteAsync(string sql)
    {
        await using var transaction = await Precomputation.BeginWritableAsync(Connection, CancellationToken);
        var rows = await Connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, commandTimeout: 0, cancellationToken: CancellationToken));
        await transaction.CommitAsync(CancellationToken);
        return rows;
    }
}
