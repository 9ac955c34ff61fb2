using PgDeploy.Progress;

namespace PgDeploy.Migrations.PostProcessing;

/// Computes batches of rows on every core, in order. A batch of expensive rows (Argon2: a thousand take most of a minute
/// on 2 cores) is reported row by row as computed, not at its end. Whichever thread finds the report free reports; the
/// others go on computing instead of waiting for it.
sealed class ParallelCompute<TRow, TResult>(Func<TRow, TResult> compute, int degreeOfParallelism, IWorkReport progress, CancellationToken cancellationToken)
{
    readonly Lock reporting = new();
    long computed;

    public long Computed => Interlocked.Read(ref computed);

    public TResult[] Run(IReadOnlyList<TRow> rows) =>
        rows.AsParallel().AsOrdered()
            .WithDegreeOfParallelism(degreeOfParallelism)
            .WithCancellation(cancellationToken)
            .Select(ComputeAndCount)
            .ToArray();

    TResult ComputeAndCount(TRow row)
    {
        var result = compute(row);
        Interlocked.Increment(ref computed);
        if (reporting.TryEnter())
        {
            try
            {
                progress.Report(Computed);
            }
            finally
            {
                reporting.Exit();
            }
        }

        return result;
    }
}
