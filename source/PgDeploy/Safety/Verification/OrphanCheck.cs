using Npgsql;

namespace PgDeploy.Safety.Verification;

/// Counts the child rows of a reference whose parent row is missing, and shows a few of their keys.
static class OrphanCheck
{
    const int ExampleCount = 5;

    public static async Task<CheckResult> RunAsync(GuardedQuery query, string name, Reference reference, string note, CancellationToken cancellationToken)
    {
        try
        {
            var orphans = await query.CountWithExamplesAsync(OrphanQuery.FromWhere(reference), OrphanQuery.Keys(reference), ExampleCount, cancellationToken);
            if (orphans.Count == 0)
                return CheckResult.Of(name, CheckResult.Counted(0, "orphan"), passed: true, note);
            return CheckResult.Of(name, CheckResult.Counted(orphans.Count, "orphan"), passed: false,
                $"{orphans.Count} row(s) of {reference.Child} have no parent in {reference.Parent}, e.g. {string.Join(", ", orphans.Examples)}. {note}".TrimEnd());
        }
        catch (PostgresException exception)
        {
            return CheckResult.QueryFailed(name, exception);
        }
    }
}
