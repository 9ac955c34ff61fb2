using System.Diagnostics;
using PgDeploy.Environments;
using Serilog;

namespace PgDeploy.Application;

/// Waits for the application to answer its health check after it was started.
public sealed class HealthProbe(HttpClient http)
{
    public async Task<TimeSpan> WaitAsync(HealthCheck check, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var last = "no answer yet";
        while (clock.Elapsed < check.Timeout)
        {
            try
            {
                using var response = await http.GetAsync(check.Url, cancellationToken);
                if ((int)response.StatusCode == check.ExpectStatus)
                {
                    Log.Information("{Url} answered {Status} after {Seconds:0.0} s", check.Url, check.ExpectStatus, clock.Elapsed.TotalSeconds);
                    return clock.Elapsed;
                }
                last = $"{(int)response.StatusCode} {response.ReasonPhrase}";
            }
            catch (HttpRequestException exception)
            {
                last = exception.Message;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
        throw new DeploymentException(
            $"The application did not become healthy within {check.Timeout.TotalSeconds:0} s: {check.Url} last answered: {last}. " +
            "The upgrade is committed and the fence is lifted; look at the application's log. Rolling back now would lose what it has written since, so fix forward or decide on ./build.sh Rollback by hand.");
    }
}
