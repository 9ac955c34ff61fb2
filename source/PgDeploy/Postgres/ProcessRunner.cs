using CliWrap;
using CliWrap.Buffered;
using Serilog;

namespace PgDeploy.Postgres;

/// <summary>Runs a PostgreSQL binary to completion and captures its output; secrets travel only in <paramref name="environment"/>.</summary>
internal static class ProcessRunner
{
    public static async Task<BufferedCommandResult> RunAsync(
        string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        Log.Debug("Running {FileName} {Arguments}", fileName, arguments);
        var command = Cli.Wrap(fileName)
            .WithArguments(arguments)
            .WithEnvironmentVariables(environment ?? new Dictionary<string, string?>())
            .WithValidation(CommandResultValidation.None);
        try
        {
            return await command.ExecuteBufferedAsync(cancellationToken);
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new PostgresSetupException(
                $"Could not start '{fileName}': {exception.Message}. Check that it exists and is executable by this user.");
        }
    }
}
