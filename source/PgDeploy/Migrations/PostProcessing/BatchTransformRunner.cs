using System.Diagnostics;
using System.Runtime.CompilerServices;
using Npgsql;

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

    public async Task<long> RunAsync()
    {
        var total = await context.QuerySingleAsync<long>($"SELECT count(*) FROM ({transform.Source}) AS source");
        await context.ExecuteAsync($"CREATE TEMP TABLE {Staging} ON COMMIT DROP AS SELECT {KeyAndColumns} FROM {transform.Table} WITH NO DATA");
        var types = (await context.QueryAsync<string>(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = @table::regclass AND attnum > 0 ORDER BY attnum",
            new { table = Staging })).ToArray();
        await context.ExecuteAsync($"DECLARE {Cursor} NO SCROLL CURSOR FOR {transform.Source}");

        var progress = new ProgressLog(context, transform.Name, total);
        long done = 0;
        while (true)
        {
            var rows = (await context.QueryAsync<TRow>($"FETCH FORWARD {transform.BatchSize} FROM {Cursor}")).ToList();
            if (rows.Count == 0)
                break;
            var results = rows.AsParallel().AsOrdered()
                .WithDegreeOfParallelism(context.DegreeOfParallelism)
                .WithCancellation(context.CancellationToken)
                .Select(transform.Compute)
                .ToArray();
            await CopyAsync(results, types);
            await context.ExecuteAsync(UpdateSql);
            await context.ExecuteAsync($"TRUNCATE {Staging}");
            done += rows.Count;
            progress.Report(done);
        }

        await context.ExecuteAsync($"CLOSE {Cursor}; DROP TABLE {Staging}");
        progress.Finish(done);
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

    sealed class ProgressLog(StepContext context, string name, long total)
    {
        readonly Stopwatch clock = Stopwatch.StartNew();
        TimeSpan lastReport;

        public void Report(long done)
        {
            if (clock.Elapsed - lastReport < TimeSpan.FromSeconds(5))
                return;
            lastReport = clock.Elapsed;
            var rate = done / Math.Max(clock.Elapsed.TotalSeconds, 0.001);
            var remaining = TimeSpan.FromSeconds(Math.Max(total - done, 0) / Math.Max(rate, 0.001));
            context.Log.Information("{Name}: {Done:N0} of {Total:N0} rows ({Percent:0}%), {Rate:N0} rows/s, about {Remaining:hh\\:mm\\:ss} left",
                name, done, total, 100.0 * done / Math.Max(total, 1), rate, remaining);
        }

        public void Finish(long done) =>
            context.Log.Information("{Name}: {Done:N0} rows in {Elapsed:0.0} s ({Rate:N0} rows/s on {Cores} cores)",
                name, done, clock.Elapsed.TotalSeconds, done / Math.Max(clock.Elapsed.TotalSeconds, 0.001), context.DegreeOfParallelism);
    }
}
