using System.Runtime.CompilerServices;
using PgDeploy.Progress;

namespace PgDeploy.Migrations.PostProcessing;

/// Reads through a cursor (so reading and writing share the upgrade's one connection), computes each
/// batch with PLINQ, and writes it back with a binary COPY into a staging table and one UPDATE ... FROM.
sealed class BatchTransformRunner<TRow, TResult>(StepContext context, BatchTransform<TRow, TResult> transform)
{
    static int instances;
    readonly string suffix = Interlocked.Increment(ref instances).ToString();
    string Cursor => $"pgdeploy_source_{suffix}";
    string Staging => $"pgdeploy_staging_{suffix}";
    string KeyAndColumns => string.Join(", ", [transform.KeyColumn, .. transform.Columns]);
    readonly Lock reporting = new();
    long computed;

    public async Task<long> RunAsync()
    {
        var total = await context.QuerySingleAsync<long>($"SELECT count(*) FROM ({transform.Source}) AS source");
        await context.ExecuteAsync($"CREATE TEMP TABLE {Staging} ON COMMIT DROP AS SELECT {KeyAndColumns} FROM {transform.Table} WITH NO DATA");
        var types = (await context.QueryAsync<string>(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = @table::regclass AND attnum > 0 ORDER BY attnum",
            new { table = Staging })).ToArray();
        await context.ExecuteAsync($"DECLARE {Cursor} NO SCROLL CURSOR FOR {transform.Source}");

        using var progress = context.Progress.Begin(new LongWork(transform.Name, WorkUnit.Rows, total));
        context.Log.Debug("{Name}: {Total:N0} rows in batches of {BatchSize} on {Cores} cores", transform.Name, total, transform.BatchSize, context.DegreeOfParallelism);
        long done = 0;
        while (true)
        {
            var rows = (await context.QueryAsync<TRow>($"FETCH FORWARD {transform.BatchSize} FROM {Cursor}")).ToList();
            if (rows.Count == 0)
                break;
            var results = rows.AsParallel().AsOrdered()
                .WithDegreeOfParallelism(context.DegreeOfParallelism)
                .WithCancellation(context.CancellationToken)
                .Select(row => ComputeAndCount(row, progress))
                .ToArray();
            await CopyAsync(results, types);
            await context.ExecuteAsync(UpdateSql);
            await context.ExecuteAsync($"TRUNCATE {Staging}");
            done += rows.Count;
        }

        await context.ExecuteAsync($"CLOSE {Cursor}; DROP TABLE {Staging}");
        progress.Report(done);
        progress.Complete();
        return done;
    }

    /// A batch of expensive rows (Argon2: a thousand take most of a minute on 2 cores) is reported row by row as computed, not at its
    /// end. Whichever thread finds the report free reports; the others go on computing instead of waiting for it.
    TResult ComputeAndCount(TRow row, IWorkReport progress)
    {
        var result = transform.Compute(row);
        Interlocked.Increment(ref computed);
        if (reporting.TryEnter())
        {
            try
            {
                progress.Report(Interlocked.Read(ref computed));
            }
            finally
            {
                reporting.Exit();
            }
        }

        return result;
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
            var tuple = result as ITuple ?? throw new InvalidOperationException(
                $"{transform.Name}: Compute must return a value tuple (key, {string.Join(", ", transform.Columns)}), not {typeof(TResult).Name}.");
            if (tuple.Length != types.Length)
                throw new InvalidOperationException(
                    $"{transform.Name}: Compute returned {tuple.Length} values, but the key and the columns {string.Join(", ", transform.Columns)} need {types.Length}.");
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
