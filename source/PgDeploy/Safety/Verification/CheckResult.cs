using Npgsql;

namespace PgDeploy.Safety.Verification;

/// Informational results never fail the verification; they tell the operator something worth a look.
public enum Verdict { Passed, Failed, Informational }

/// One integrity check: what was checked, the figure it produced, the verdict and the details behind it.
/// Details name tables, columns and key values only, never other column values: the data may be personal.
public sealed record CheckResult(string Name, string Figure, Verdict Verdict, string Detail)
{
    public static CheckResult Of(string name, string figure, bool passed, string detail) =>
        new(name, figure, passed ? Verdict.Passed : Verdict.Failed, detail);

    /// A figure such as "1 orphan" or "3 orphans".
    public static string Counted(long count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";

    /// A check whose query failed: it proves nothing, so it fails, and says why.
    public static CheckResult QueryFailed(string name, PostgresException exception) =>
        new(name, "error", Verdict.Failed, $"the query failed with {exception.SqlState}: {exception.MessageText}" +
                                           (exception.Position > 0 ? $" (at character {exception.Position})" : ""));
}
