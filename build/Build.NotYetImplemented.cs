/// Targets whose issue has not landed yet are listed honestly and refuse to run.
partial class Build
{
    static string PlannedFor(int issue) => $" [not yet implemented: issue #{issue}]";

    static void NotYetImplemented(int issue) =>
        throw new NotSupportedException(
            $"This target is not implemented yet (issue #{issue}); nothing was changed. Use the manual procedure in the deployment guide until it lands.");
}
