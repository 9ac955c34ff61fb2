using CliWrap;
using CliWrap.Buffered;
using Serilog;

namespace PgDeploy.Postgres;

/// <summary>Runs a program to completion and captures its output. Arguments are logged and visible to every local user, so they must never hold a secret.</summary>
internal static class ProcessRunner
{
    public static async Task<BufferedCommandResult> RunAsync(
        string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        Log.Debug("Running {FileName} {Arguments}", fileName, arguments);
        var command = Cli.Wrap(fileName)
            .WithArguments(arguments)
            .WithValidation(CommandResultValidation.None);
        try
        {
            return await command.ExecuteBufferedAsync(cancellationToken);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new PostgresSetupException(
                $"Could not start {fileName}: it does not exist or this user may not execute it. Install it, or fix its permissions.");
        }
    }
}
