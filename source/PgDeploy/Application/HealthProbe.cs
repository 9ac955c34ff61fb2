using System.Diagnostics;
using System.Text.RegularExpressions;
using PgDeploy.Environments;
using Serilog;

namespace PgDeploy.Application;

/// Waits until the application a hook brought up answers its health check: the expected status AND, when the check
/// sets expectBody, the expected text, expanded with the variables of that hook (DEPLOY_APP_VERSION is the version it
/// started). A status alone would also accept another process answering on the same address while the application the
/// hook launched failed to bind it. It follows a start hook, or a revert hook (then it expects the from version).
public sealed partial class HealthProbe(ApplicationEnvironment environment, HttpClient http)
{
    internal const string UsedBy = "The health check";

    /// How much of an unexpected answer a message quotes: enough to recognise who answered.
    const int ExcerptLength = 120;

    public async Task<TimeSpan> WaitAsync(HealthCheck check, HookKind after, DeploymentFacts facts, CancellationToken cancellationToken)
    {
        var variables = environment.For(after, facts);
        var url = variables.Expand(check.Url, UsedBy);
        var expected = check.ExpectBody is { } text ? variables.Expand(text, UsedBy) : null;
        var clock = Stopwatch.StartNew();
        var last = "nothing: no answer yet";
        var answered = false;
        while (clock.Elapsed < check.Timeout)
        {
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                var status = (int)response.StatusCode;
                if (status == check.ExpectStatus && (expected is null || body.Contains(expected, StringComparison.Ordinal)))
                {
                    Log.Information("{Url} answered {Status} as the {Hook} hook's application after {Seconds:0.0} s", check.Url, status, after.Name(), clock.Elapsed.TotalSeconds);
                    return clock.Elapsed;
                }
                answered = true;
                last = status == check.ExpectStatus
                    ? $"{status} {response.ReasonPhrase} without the expected text {variables.Mask(expected!)} ({Excerpt(body, variables)})"
                    : $"{status} {response.ReasonPhrase} ({Excerpt(body, variables)})";
            }
            catch (HttpRequestException exception)
            {
                (last, answered) = ($"nothing: {variables.Mask(exception.Message)}", false);
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The HttpClient's own timeout: something accepted the connection and never answered.
                (last, answered) = ($"nothing within {http.Timeout.TotalSeconds:0} s", false);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
        var intruder = answered
            ? " Another process may be answering on that address, while the application the hook launched failed to bind it: look at what listens there and at the application's log."
            : "";
        var consequence = after == HookKind.Start
            ? "The upgrade is committed and the fence is lifted; rolling back now would lose what the application has written since, so fix forward or decide on ./build.sh Rollback by hand."
            : $"The database is back at {facts.FromVersion ?? "its previous version"} and the fence is lifted: bring that version of the application up by hand before users come back.";
        throw new DeploymentException(
            $"The application did not become healthy within {check.Timeout.TotalSeconds:0} s after the {after.Name()} hook: {check.Url} last answered {last}.{intruder} {consequence}");
    }

    /// The start of an answer on one line, masked before it is cut so that no part of a secret survives.
    static string Excerpt(string body, HookVariables variables)
    {
        var text = Whitespace().Replace(variables.Mask(body), " ").Trim();
        return text.Length == 0 ? "empty" : text.Length <= ExcerptLength ? $"it said: {text}" : $"it began: {text[..ExcerptLength]}...";
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
