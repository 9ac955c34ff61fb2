using PgDeploy.Postgres;

namespace PgDeploy.Migrations.PostProcessing;

/// Reads through a cursor (so reading and writing share the upgrade's one connection), computes each
/// batch with PLINQ, and writes it back with a binary COPY into a staging table and one UPDATE ... FROM.
/// Results precomputed before the fence for rows that have not changed since go in first, with one UPDATE.
sealed class BatchTransformRunner<TRow, TResult>(StepContext context, BatchTransform<TRow, TResult> transform)
{
    static int instances;
    readonly string suffix = Interlocked.Increment(ref instances).ToString();
    string Cursor => $"pgdeploy_source_{suffix}";
    string Staging => $"pgdeploy_staging_{suffix}";
    string Applied => $"pgdeploy_applied_{suffix}";
    string KeyAndColumns => string.Join(", ", [transform.KeyColumn, .. transform.Columns]);
    string Key => DatabaseAdmin.QuoteIdentifier(transform.KeyColumn);

    public async Task<long> RunAsync()
    {
        var source = transform.Source;
        long stored = 0;
        var precomputation = context.Precomputation(transform);
        if (precomputation is not null && !await precomputation.UsableAsync(context.Connection, context.Transaction, context.CancellationToken))
            precomputation = null;
        if (precomputation is not null)
        {
            stored = await ApplyStoredAsync(precomputation);
            source = $"SELECT source.* FROM ({transform.Source}) AS source WHERE NOT EXISTS (SELECT 1 FROM {Applied} AS applied WHERE applied.key = source.{Key})";
        }

        var computed = await ComputeAsync(source);
        if (precomputation is not null)
        {
            // In the upgrade's transaction: gone with the plaintext when it commits, still there for the next attempt if it rolls back.
            await context.ExecuteAsync($"DROP TABLE {precomputation.Table}; DROP TABLE {Applied}");
            context.Log.Information("  {Name}: {Stored:N0} rows precomputed before the fence, {Computed:N0} computed inside it", transform.Name, stored, computed);
        }
        return stored + computed;
    }

    /// The stored results still current go into a temporary table first, so that the digests, the costly part, are computed
    /// once: the update applies its rows and the rows left to compute are those not in it.
    async Task<long> ApplyStoredAsync(Precomputation precomputation)
    {
        await context.ExecuteAsync(
            $"CREATE TEMP TABLE {Applied} ON COMMIT DROP AS SELECT stored.key, stored.result " +
            $"FROM ({transform.Source}) AS source JOIN {precomputation.Table} AS stored ON {Precomputation.Matches(transform.KeyColumn)}");
        await context.ExecuteAsync($"ANALYZE {Applied}");
        var types = (await context.QueryAsync<(string Name, string Type)>(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = @table::regclass AND attnum > 0 AND NOT attisdropped",
            new { table = transform.Table })).ToDictionary(column => column.Name, column => column.Type);
        var assignments = transform.Columns.Select((column, index) =>
            $"{DatabaseAdmin.QuoteIdentifier(column)} = applied.result[{index + 1}]::{types[column]}");
        return await context.ExecuteAsync(
            $"UPDATE {transform.Table} AS target SET {string.Join(", ", assignments)} FROM {Applied} AS applied WHERE target.{Key} = applied.key");
    }

    async Task<long> ComputeAsync(string source)
    {
        var total = await context.QuerySingleAsync<long>($"SELECT count(*) FROM ({source}) AS source");
        await context.ExecuteAsync($"CREATE TEMP TABLE {Staging} ON COMMIT DROP AS SELECT {KeyAndColumns} FROM {transform.Table} WITH NO DATA");
        var types = (await context.QueryAsync<string>(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = @table::regclass AND attnum > 0 ORDER BY attnum",
            new { table = Staging })).ToArray();
        await context.ExecuteAsync($"DECLARE {Cursor} NO SCROLL CURSOR FOR {source}");

        using var progress = context.Progress.Begin(new Progress.LongWork(transform.Name, Progress.WorkUnit.Rows, total));
        var compute = new ParallelCompute<TRow, TResult>(transform.Compute, context.DegreeOfParallelism, progress, context.CancellationToken);
        context.Log.Debug("{Name}: {Total:N0} rows in batches of {BatchSize} on {Cores} cores", transform.Name, total, transform.BatchSize, context.DegreeOfParallelism);
        long done = 0;
        while (true)
        {
            var rows = (await context.QueryAsync<TRow>($"FETCH FORWARD {transform.BatchSize} FROM {Cursor}")).ToList();
            if (rows.Count == 0)
                break;
            await CopyAsync(compute.Run(rows), types);
            await context.ExecuteAsync(UpdateSql);
            await context.ExecuteAsync($"TRUNCATE {Staging}");
            done += rows.Count;
        }

        await context.ExecuteAsync($"CLOSE {Cursor}; DROP TABLE {Staging}");
        progress.Report(done);
        progress.Complete();
        return done;
    }

    string UpdateSql =>
        $"UPDATE {transform.Table} AS target SET {string.Join(", ", transform.Columns.Select(column => $"{column} = staged.{column}"))} " +
        $"FROM {Staging} AS staged WHERE target.{transform.KeyColumn} = staged.{transform.KeyColumn}";

    async Task CopyAsync(TResult[] results, string[] types)
    {
        var cancellationToken = context.CancellationToken;
        await using var writer = await context.Connection.BeginBinaryImportAsync($"COPY {Staging} ({KeyAndColumns}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var result in results)
        {
            var tuple = ResultTuple.Of(result, transform.Name, transform.Columns);
            await writer.StartRowAsync(cancellationToken);
            for (var index = 0; index < tuple.Length; index++)
            {
                if (tuple[index] is { } value)
                    await writer.WriteAsync(value, types[index], cancellationToken);
                else
                    await writer.WriteNullAsync(cancellationToken);
            }
        }
        await writer.CompleteAsync(cancellationToken);
    }
}
