using Npgsql;
using PgDeploy.Migrations.History;
using PgDeploy.Postgres;
using PgDeploy.Safety;
using Serilog;

namespace PgDeploy.Migrations;

/// Writes a live database's schema as a version's first script (Init --from-database), so that a new environment can be
/// built from scratch by Deploy and the live database adopted at the same version by Baseline.
public static class SchemaSnapshot
{
    public const string ScriptName = "000_schema.sql";

    /// <returns>The script written.</returns>
    public static async Task<string> WriteAsync(string connectionString, string migrationsDirectory, AppVersion version, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(migrationsDirectory, version.FolderName);
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new DeploymentRefusedException(
                $"{folder} already holds migrations: Init writes a version's first script only into a new folder. " +
                "Name another --version, or move the folder away and run again; nothing was written.");

        var connection = LibpqEnvironment.From(connectionString, "pgdeploy init");
        int serverMajor;
        await using (var session = new NpgsqlConnection(connectionString))
        {
            await session.OpenAsync(cancellationToken);
            serverMajor = session.PostgreSqlVersion.Major;
        }

        var pgDump = await ClientToolLocator.FindAsync("pg_dump", null, serverMajor, $"dump a PostgreSQL {serverMajor} server", cancellationToken);
        var schema = await ClientToolRunner.RunAsync(
            pgDump, ["--schema-only", "--no-owner", "--no-privileges", $"--exclude-schema={HistoryTable.Schema}"], connection,
            $"dumping the schema of database '{connection.Database}'", "Nothing was written.", cancellationToken);

        Directory.CreateDirectory(folder);
        var script = Path.Combine(folder, ScriptName);
        await File.WriteAllTextAsync(script, Header(connection.Database, pgDump) + WithoutMetaCommands(schema), cancellationToken);
        Log.Information("Init: wrote the schema of database '{Database}' as {Script}. Adopt that database with ./build.sh Baseline --version {Version}; " +
                        "an empty database gets the same schema from ./build.sh Deploy --version {Version}", connection.Database, script, version, version);
        return script;
    }

    static string Header(string database, ClientTool pgDump) =>
        $"""
         -- The schema of database '{database}' on {DateTime.UtcNow:yyyy-MM-dd} (pg_dump {pgDump.MajorVersion} --schema-only), written by Init --from-database.
         -- Owners and privileges are left out: roles differ between environments. Grant what the application's roles need in a later script.

         """;

    /// pg_dump's \restrict and \unrestrict lines guard psql against a malicious dump; the runner refuses psql meta-commands.
    static string WithoutMetaCommands(string sql) =>
        string.Join('\n', sql.Split('\n').Where(line => !line.StartsWith(@"\restrict ", StringComparison.Ordinal) && !line.StartsWith(@"\unrestrict ", StringComparison.Ordinal)));
}
