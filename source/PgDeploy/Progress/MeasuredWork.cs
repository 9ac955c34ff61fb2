namespace PgDeploy.Progress;

/// Work that cannot report by itself (pg_dump, pg_restore) is measured from outside while it runs: the size of what it has
/// written so far. The measuring never outlives the work, and a failed measurement is a missing report, not a failed dump.
static class MeasuredWork
{
    static readonly TimeSpan Every = TimeSpan.FromMilliseconds(500);

    /// <param name="measure">How much is done now; null when it cannot be told this time.</param>
    public static async Task WatchAsync(Task work, IWorkReport report, Func<Task<long?>> measure)
    {
        while (await Task.WhenAny(work, Task.Delay(Every)) != work)
        {
            if (await measure() is { } done)
                report.Report(done);
        }

        await work;
    }
}
