using CliWrap;
using CliWrap.Buffered;
using Npgsql;
using PgDeploy.Postgres;

namespace School.Tests;

/// The rows of the public schema as pg_dump writes them, sequences included.
static class DataDump
{
    public static async Task<string> OfPublicSchemaAsync(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        int serverMajor;
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            serverMajor = connection.PostgreSqlVersion.Major;
        }

        var pgDump = await PostgresBinaries.FindClientToolAsync("pg_dump", serverMajor);
        var result = await Cli.Wrap(pgDump.Path)
            .WithArguments(["--data-only", "--schema=public", "--host", builder.Host!, "--port", builder.Port.ToString(), "--username", builder.Username!, builder.Database!])
            .WithEnvironmentVariables(environment => environment.Set("PGPASSWORD", builder.Password))
            .ExecuteBufferedAsync();
        // Newer pg_dump versions fence the script with \restrict and a random key.
        return string.Join('\n', result.StandardOutput.Split('\n').Where(line => !line.StartsWith('\\')));
    }
}
