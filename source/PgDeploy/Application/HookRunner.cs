using System.Text;
using CliWrap;
using PgDeploy.Environments;
using Serilog;

namespace PgDeploy.Application;

/// Runs an environment's hook: a shell command, or an HTTP call whose ${VARIABLES} are expanded only in the request
/// itself, both with the variables of ApplicationEnvironment. The log names the hook, never the expanded values, and
/// what the hook prints is masked. Commands run in the repository root, so that settings can name scripts by their
/// path in the repository.
public sealed class HookRunner(ApplicationEnvironment environment, HttpClient http, string workingDirectory)
{
    public async Task RunAsync(HookKind kind, Hook hook, DeploymentFacts facts, CancellationToken cancellationToken)
    {
        var variables = environment.For(kind, facts);
        var name = kind.Describe();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(hook.Timeout);
        try
        {
            if (hook.Command is { } command)
                await RunCommandAsync(kind, command, variables, timeout.Token);
            else if (hook.Url is not null)
                await RunHttpAsync(kind, hook, variables, timeout.Token);
            else
                throw new DeploymentException($"{name} has neither a command nor a url. Give it one of them in the environment's settings file.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DeploymentException($"{name} did not finish within {hook.Timeout.TotalSeconds:0} s. Check what it waits for, or raise its timeout in the environment's settings file.");
        }
    }

    async Task RunCommandAsync(HookKind kind, string command, HookVariables variables, CancellationToken cancellationToken)
    {
        variables.Refer(command, kind.Describe());
        Log.Information("Running the {Hook} hook: {Command}", kind.Name(), command);
        var errors = new StringBuilder();
        // The shell expands ${VARIABLES} itself, from the environment given here: secrets never enter argv.
        var result = await Cli.Wrap("/bin/sh")
            .WithArguments(["-c", command])
            .WithWorkingDirectory(workingDirectory)
            .WithEnvironmentVariables(ChildEnvironment.Exactly(variables.Values))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(line => Log.Information("  {Line}", variables.Mask(line))))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line =>
            {
                Log.Warning("  {Line}", variables.Mask(line));
                errors.AppendLine(line);
            }))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(cancellationToken);
        if (result.ExitCode != 0)
            throw new DeploymentException(
                $"{kind.Describe()} failed with exit code {result.ExitCode}{Said(Tail(variables.Mask(errors.ToString())))} Fix the command in the environment's settings file or run it by hand, then run again.");
    }

    async Task RunHttpAsync(HookKind kind, Hook hook, HookVariables variables, CancellationToken cancellationToken)
    {
        var name = kind.Describe();
        using var request = new HttpRequestMessage(new HttpMethod(hook.Method), variables.Expand(hook.Url!, name));
        foreach (var (header, value) in hook.Headers)
            request.Headers.TryAddWithoutValidation(header, variables.Expand(value, name));
        if (hook.Body is { } body)
            request.Content = new StringContent(variables.Expand(body, name), Encoding.UTF8, "application/json");
        Log.Information("Calling the {Hook} hook: {Method} {Url}", kind.Name(), hook.Method, hook.Url);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new DeploymentException(
                $"{name} answered {(int)response.StatusCode} {response.ReasonPhrase}. Check the service behind {hook.Url} and run again.");
    }

    /// A hook that failed without a word on stderr leaves only its exit code to report.
    static string Said(string stderr) => stderr.Length == 0 ? "." : $": {stderr.TrimEnd('.')}.";

    static string Tail(string text) => text.Length <= 500 ? text.Trim() : "..." + text[^500..].Trim();
}
