using System.Text;
using PgDeploy.Environments;
using Serilog;

namespace PgDeploy.Application;

public sealed record SmokeResult(string Name, bool Passed, string Detail);

/// The requests a person would make right after the upgrade: log in as a representative teacher and
/// admin, list and open core records. Every check runs, so the report shows all that is broken at once.
/// Their ${VARIABLES} expand with the variables of the hook they follow (see ApplicationEnvironment).
public sealed class SmokeChecks(ApplicationEnvironment environment, HttpClient http)
{
    internal static string UsedBy(SmokeCheck check) => $"The smoke check '{check.Name}'";

    public async Task<IReadOnlyList<SmokeResult>> RunAsync(IEnumerable<SmokeCheck> checks, HookKind after, DeploymentFacts facts, CancellationToken cancellationToken)
    {
        var variables = environment.For(after, facts);
        var results = new List<SmokeResult>();
        foreach (var check in checks)
        {
            var result = await RunAsync(check, variables, cancellationToken);
            Log.Information("Smoke check {Name}: {Verdict} ({Detail})", check.Name, result.Passed ? "passed" : "FAILED", result.Detail);
            results.Add(result);
        }
        return results;
    }

    async Task<SmokeResult> RunAsync(SmokeCheck check, HookVariables variables, CancellationToken cancellationToken)
    {
        var usedBy = UsedBy(check);
        using var request = new HttpRequestMessage(new HttpMethod(check.Method), variables.Expand(check.Url, usedBy));
        foreach (var (header, value) in check.Headers)
            request.Headers.TryAddWithoutValidation(header, variables.Expand(value, usedBy));
        if (check.Body is { } body)
            request.Content = new StringContent(variables.Expand(body, usedBy), Encoding.UTF8, "application/json");
        var expected = check.ExpectBody is { } text ? variables.Expand(text, usedBy) : null;
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var content = await response.Content.ReadAsStringAsync(cancellationToken);
            if ((int)response.StatusCode != check.ExpectStatus)
                return new(check.Name, false, $"{check.Method} {check.Url} answered {(int)response.StatusCode}, expected {check.ExpectStatus}");
            if (expected is not null && !content.Contains(expected, StringComparison.Ordinal))
                return new(check.Name, false, $"{check.Method} {check.Url} answered {(int)response.StatusCode} without the expected text");
            return new(check.Name, true, $"{check.Method} {check.Url} answered {(int)response.StatusCode}");
        }
        catch (HttpRequestException exception)
        {
            return new(check.Name, false, $"{check.Method} {check.Url} failed: {variables.Mask(exception.Message)}");
        }
    }
}
