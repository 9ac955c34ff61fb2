using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;
using PgDeploy.Postgres;

namespace PgDeploy.Bench;

/// <summary>Runs a PostgreSQL client program as an operator would, connection in the environment, and times it.</summary>
static class RawTool
{
    public static Task<ClientTool> FindAsync(string name) => PostgresBinaries.FindClientToolAsync(name);

    public static async Task<TimeSpan> RunAsync(ClientTool tool, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var clock = Stopwatch.StartNew();
        var result = await Cli.Wrap(tool.Path).WithArguments(arguments).WithEnvironmentVariables(environment)
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        var elapsed = clock.Elapsed;
        if (!result.IsSuccess)
            throw new InvalidOperationException(
                $"{tool.Name} {string.Join(' ', arguments.Take(8))}{(arguments.Count > 8 ? " …" : "")} failed with exit code {result.ExitCode}: {Tail(result.StandardError)}");
        return elapsed;
    }

    static string Tail(string text) => text.Length <= 2000 ? text.Trim() : "…" + text[^2000..].Trim();
}
