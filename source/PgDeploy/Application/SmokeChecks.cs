using System.Text;
using PgDeploy.Environments;
using Serilog;

namespace PgDeploy.Application;

public sealed record SmokeResult(string Name, bool Passed, string Detail);

/// The requests a person would make right after the upgrade: log in as a representative teacher and
/// admin, list and open core records. Every check runs, so the report shows all that is broken at once.
public sealed class SmokeChecks(HttpClient http, SecretVariables secrets)
{
    public async Task<IReadOnlyList<SmokeResult>> RunAsync(IEnumerable<SmokeCheck> checks, CancellationToken cancellationToken)
    {
        var results = new List<SmokeResult>();
        foreach (var check in checks)
        {
            var result = await RunAsync(check, cancellationToken);
            Log.Information("Smoke check {Name}: {Verdict} ({Detail})", check.Name, result.Passed ? "passed" : "FAILED", result.Detail);
            results.Add(result);
        }
        return results;
    }

    async Task<SmokeResult> RunAsync(SmokeCheck check, CancellationToken cancellationToken)
    {
        var usedBy = $"The smoke check '{check.Name}'";
        using var request = new HttpRequestMessage(new HttpMethod(check.Method), secrets.Expand(check.Url, usedBy));
        foreach (var (header, value) in check.Headers)
            request.Headers.TryAddWithoutValidation(header, secrets.Expand(value, usedBy));
        if (check.Body is { } body)
            request.Content = new StringContent(secrets.Expand(body, usedBy), Encoding.UTF8, "application/json");
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var content = await response.Content.ReadAsStringAsync(cancellationToken);
            if ((int)response.StatusCode != check.ExpectStatus)
                return new(check.Name, false, $"{check.Method} {check.Url} answered {(int)response.StatusCode}, expected {check.ExpectStatus}");
            if (check.ExpectBody is { } expected && !content.Contains(expected, StringComparison.Ordinal))
                return new(check.Name, false, $"{check.Method} {check.Url} answered {(int)response.StatusCode} without the expected text");
            return new(check.Name, true, $"{check.Method} {check.Url} answered {(int)response.StatusCode}");
        }
        catch (HttpRequestException exception)
        {
            return new(check.Name, false, $"{check.Method} {check.Url} failed: {exception.Message}");
        }
    }
}
