using PgDeploy.Deployments;
using Serilog;

namespace PgDeploy.Safety;

/// Runs every check before anything changes and reports all failures together: at night, one round
/// trip to fix everything beats discovering problems one run at a time.
public sealed class Preflight
{
    readonly List<CheckRecord> checks = [];

    public IReadOnlyList<CheckRecord> Checks => checks;

    public async Task CheckAsync(string name, Func<Task<string>> check)
    {
        try
        {
            var figure = await check();
            checks.Add(new CheckRecord(name, figure, true, ""));
            Log.Information("  ok    {Check}: {Figure}", name, figure);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            checks.Add(new CheckRecord(name, "failed", false, exception.Message));
            Log.Error("  FAIL  {Check}: {Reason}", name, exception.Message);
        }
    }

    /// A failed prerequisite is a refusal: nothing has changed yet.
    /// <param name="context">What the operator needs besides the failures, e.g. the unfinished deployment this run would continue.</param>
    public void ThrowIfFailed(string context = "")
    {
        var failed = checks.Where(check => !check.Passed).ToList();
        if (failed.Count > 0)
            throw new DeploymentRefusedException(
                $"{failed.Count} prerequisite(s) failed; nothing was changed.{(context.Length > 0 ? $" {context}" : "")}{Environment.NewLine}" +
                string.Join(Environment.NewLine, failed.Select(check => $"  - {check.Name}: {check.Detail}")));
    }
}
