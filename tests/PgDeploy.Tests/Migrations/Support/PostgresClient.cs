using CliWrap;
using CliWrap.Buffered;
using Npgsql;
using PgDeploy.Migrations.History;
using PgDeploy.Postgres;

namespace PgDeploy.Tests.Migrations.Support;

/// <summary>
/// Runs pg_dump and psql as real processes. The connection goes on the command line as host, port, user and database;
/// the password only in PGPASSWORD, because every local user can read a process's arguments.
/// </summary>
internal static class PostgresClient
{
    private static readonly Dictionary<string, Task<ClientTool>> Tools = [];

    /// <summary>
    /// A plain-format dump without the pgdeploy schema. The \restrict lines of newer pg_dump releases carry a random key
    /// per run, so they are left out: two dumps of the same database must compare equal.
    /// </summary>
    public static Task<string> DumpAsync(string connectionString, IEnumerable<string> options) =>
        DumpWholeAsync(connectionString, [$"--exclude-schema={HistoryTable.Schema}", .. options]);

    /// <summary>A plain-format dump of everything, the pgdeploy schema included, normalised as <see cref="DumpAsync"/> does.</summary>
    public static async Task<string> DumpWholeAsync(string connectionString, IEnumerable<string> options)
    {
        var result = await RunAsync("pg_dump", connectionString, ["--format=plain", .. options]);
        return string.Join('\n', result.StandardOutput.Split('\n')
            .Where(line => !line.StartsWith(@"\restrict ", StringComparison.Ordinal) && !line.StartsWith(@"\unrestrict ", StringComparison.Ordinal)));
    }

    /// <summary>Runs a script file the way an operator would by hand: one transaction, stop at the first error, no psqlrc.</summary>
    public static Task<BufferedCommandResult> RunScriptAsync(string connectionString, string file) =>
        RunAsync("psql", connectionString, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", file]);

    private static async Task<BufferedCommandResult> RunAsync(string toolName, string connectionString, IReadOnlyList<string> arguments)
    {
        var tool = await FindAsync(toolName, connectionString);
        var connection = new NpgsqlConnectionStringBuilder(connectionString);
        var result = await Cli.Wrap(tool.Path)
            .WithArguments(["-h", connection.Host!, "-p", connection.Port.ToString(), "-U", connection.Username!, "-d", connection.Database!, "--no-password", .. arguments])
            .WithEnvironmentVariables(environment => environment
                .Set("PGPASSWORD", connection.Password)
                .Set("PGOPTIONS", null)
                .Set("PGSERVICE", null))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();
        if (!result.IsSuccess)
        {
            throw new InvalidOperationException(
                $"{toolName} {string.Join(' ', arguments)} exited with {result.ExitCode}:{Environment.NewLine}{result.StandardError}{result.StandardOutput}");
        }

        return result;
    }

    /// <summary>The newest installed copy of the tool, which must not be older than the server: pg_dump refuses newer servers.</summary>
    private static async Task<ClientTool> FindAsync(string name, string connectionString)
    {
        int serverMajor;
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            serverMajor = connection.PostgreSqlVersion.Major;
        }

        Task<ClientTool> tool;
        lock (Tools)
        {
            var key = $"{name} for {serverMajor}";
            if (!Tools.TryGetValue(key, out tool!))
            {
                Tools[key] = tool = PostgresBinaries.FindClientToolAsync(name, serverMajor);
            }
        }

        return await tool;
    }
}
