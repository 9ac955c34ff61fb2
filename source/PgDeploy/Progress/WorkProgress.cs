namespace PgDeploy.Progress;

/// What long work counts in: bytes are shown as KB/MB/GB, rows as a number.
public enum WorkUnit { Rows, Bytes }

/// <summary>One piece of long work, as its reporter is told at the start.</summary>
/// <param name="What">What the operator reads, e.g. "Safe harbor dump".</param>
/// <param name="Total">How much there is to do; null when nobody knows beforehand.</param>
/// <param name="TotalIsEstimate">The total is a guess (a dump's size before it is written): the work may end above or below it.</param>
public sealed record LongWork(string What, WorkUnit Unit, long? Total = null, bool TotalIsEstimate = false);

/// <summary>
/// Where long work (dump, restore, hashing) tells how far it is. The deployment code knows only this seam; the operator's console
/// decides how to show it: a progress bar on a terminal, or log lines every few seconds (<see cref="LoggedProgress"/>).
/// </summary>
public interface IWorkProgress
{
    IWorkReport Begin(LongWork work);
}

/// <summary>The reports of one piece of long work. Dispose ends it; without <see cref="Complete"/> first it ended unfinished (a failure or a cancel).</summary>
public interface IWorkReport : IDisposable
{
    /// <param name="done">How much is done so far, in the work's unit; cheap enough to call for every batch or buffer, from one thread at a time.</param>
    void Report(long done);

    /// The work finished; the last reported amount is all there was.
    void Complete();
}
