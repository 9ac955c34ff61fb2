using CliWrap;
using CliWrap.Buffered;
using PgDeploy.Postgres;
using Serilog;

namespace PgDeploy.Safety;

/// <summary>
/// The one way the safe harbor runs pg_dump and pg_restore: connection parameters only in the environment (arguments are
/// visible to every local user and are logged), --no-password so a missing password fails instead of waiting for a prompt,
/// and a failure reported with the tool's own last words.
/// </summary>
static class ClientToolRunner
{
    const int StandardErrorTailLength = 1500;

    /// <param name="doing">What the tool was doing, for the failure message: "dumping database app".</param>
    /// <param name="fix">What the operator should do about a failure, ending the message.</param>
    public static async Task<string> RunAsync(
        ClientTool tool, IReadOnlyList<string> arguments, LibpqEnvironment? connection, string doing, string fix, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> allArguments = connection is null ? arguments : ["--no-password", .. arguments];
        Log.Debug("Running {Tool} {Arguments}", tool.Path, allArguments);
        var command = Cli.Wrap(tool.Path).WithArguments(allArguments).WithValidation(CommandResultValidation.None);
        if (connection is not null)
        {
            command = command.WithEnvironmentVariables(connection.Variables);
        }

        BufferedCommandResult result;
        try
        {
            result = await command.ExecuteBufferedAsync(cancellationToken);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new DeploymentException(
                $"Could not start {tool.Path} while {doing}: it is gone or this user may not execute it. Reinstall the PostgreSQL client or fix its permissions. {fix}".TrimEnd());
        }

        return result.IsSuccess ? result.StandardOutput : throw Failure(tool, result, connection, doing, fix);
    }

    /// <summary>The full first line of `--version`, e.g. "pg_dump (PostgreSQL) 15.13 (Debian 15.13-1)", for the manifest.</summary>
    public static async Task<string> ReadVersionAsync(ClientTool tool, CancellationToken cancellationToken)
    {
        var (output, failure) = await PostgresBinaries.ReadVersionAsync(tool.Path, cancellationToken);
        return output ?? throw Failure(tool, failure!, null, "reporting its version", "Reinstall the PostgreSQL client.");
    }

    static DeploymentException Failure(ClientTool tool, BufferedCommandResult result, LibpqEnvironment? connection, string doing, string fix)
    {
        var said = StandardErrorTail(result.StandardError);
        return new DeploymentException(
            $"{tool.Name} {tool.MajorVersion} failed while {doing} (exit code {result.ExitCode}): "
            + $"{(said.Length > 0 ? connection?.Redact(said) ?? said : "it printed no error")}. {fix}".TrimEnd());
    }

    // The end of what the tool said is where its reason is; one line, so the message stays one paragraph.
    static string StandardErrorTail(string standardError)
    {
        var oneLine = string.Join("; ", standardError.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .TrimEnd('.');
        return oneLine.Length <= StandardErrorTailLength ? oneLine : "…" + oneLine[^StandardErrorTailLength..];
    }
}
