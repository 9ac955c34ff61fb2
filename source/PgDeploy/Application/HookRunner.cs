using System.Text;
using CliWrap;
using PgDeploy.Environments;
using Serilog;

namespace PgDeploy.Application;

/// Runs an environment's hook: a shell command, or an HTTP call whose ${VARIABLES} are expanded only
/// in the request itself. The log names the hook, never the expanded values.
/// Commands run in the repository root, so that settings can name scripts by their path in the repository.
public sealed class HookRunner(SecretVariables secrets, HttpClient http, IReadOnlyDictionary<string, string?> environment, string workingDirectory)
{
    public async Task RunAsync(string name, Hook hook, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(hook.Timeout);
        try
        {
            if (hook.Command is { } command)
                await RunCommandAsync(name, command, timeout.Token);
            else if (hook.Url is not null)
                await RunHttpAsync(name, hook, timeout.Token);
            else
                throw new DeploymentException($"The {name} hook has neither a command nor a url. Give it one of them in the environment's settings file.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DeploymentException($"The {name} hook did not finish within {hook.Timeout.TotalSeconds:0} s. Check what it waits for, or raise its timeout in the environment's settings file.");
        }
    }

    async Task RunCommandAsync(string name, string command, CancellationToken cancellationToken)
    {
        Log.Information("Running the {Name} hook: {Command}", name, command);
        var errors = new StringBuilder();
        // The shell expands ${VARIABLES} itself, from the environment given here: secrets never enter argv.
        var result = await Cli.Wrap("/bin/sh")
            .WithArguments(["-c", command])
            .WithWorkingDirectory(workingDirectory)
            .WithEnvironmentVariables(environment)
            .WithStandardOutputPipe(PipeTarget.ToDelegate(line => Log.Information("  {Line}", line)))
            .WithStandardErrorPipe(PipeTarget.Merge(PipeTarget.ToDelegate(line => Log.Warning("  {Line}", line)), PipeTarget.ToStringBuilder(errors)))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(cancellationToken);
        if (result.ExitCode != 0)
            throw new DeploymentException(
                $"The {name} hook failed with exit code {result.ExitCode}: {Tail(errors.ToString())} Fix the command in the environment's settings file or run it by hand, then run again.");
    }

    async Task RunHttpAsync(string name, Hook hook, CancellationToken cancellationToken)
    {
        Log.Information("Calling the {Name} hook: {Method} {Url}", name, hook.Method, hook.Url);
        using var request = new HttpRequestMessage(new HttpMethod(hook.Method), secrets.Expand(hook.Url!, $"The {name} hook"));
        foreach (var (header, value) in hook.Headers)
            request.Headers.TryAddWithoutValidation(header, secrets.Expand(value, $"The {name} hook"));
        if (hook.Body is { } body)
            request.Content = new StringContent(secrets.Expand(body, $"The {name} hook"), Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new DeploymentException(
                $"The {name} hook answered {(int)response.StatusCode} {response.ReasonPhrase}. Check the service behind {hook.Url} and run again.");
    }

    static string Tail(string text) => text.Length <= 500 ? text.Trim() : "..." + text[^500..].Trim();
}
