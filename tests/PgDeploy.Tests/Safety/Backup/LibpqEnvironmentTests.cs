using System.Runtime.Versioning;
using PgDeploy.Postgres;
using PgDeploy.Safety;

namespace PgDeploy.Tests.Safety.Backup;

public sealed class LibpqEnvironmentTests
{
    [Fact]
    public void Turns_an_Npgsql_connection_string_into_libpq_variables()
    {
        var environment = LibpqEnvironment.From(
            "Host=db1:5433,db2,[::1]:5434;Port=5432;Username=app;Password=s3cret;Database=school;SSL Mode=VerifyFull;"
            + "Root Certificate=/etc/ca.pem;Timeout=7;Target Session Attributes=read-write;Options=-c search_path=app",
            "pgdeploy test");

        Assert.Equal("school", environment.Database);
        Assert.Equal(
            new SortedDictionary<string, string?>
            {
                ["PGHOST"] = "db1,db2,::1", ["PGPORT"] = "5433,5432,5434", ["PGUSER"] = "app", ["PGPASSWORD"] = "s3cret", ["PGDATABASE"] = "school",
                ["PGSSLMODE"] = "verify-full", ["PGSSLROOTCERT"] = "/etc/ca.pem", ["PGCONNECT_TIMEOUT"] = "7", ["PGTARGETSESSIONATTRS"] = "read-write",
                ["PGOPTIONS"] = "-c search_path=app", ["PGAPPNAME"] = "pgdeploy test", ["PGKRBSRVNAME"] = "postgres",
            },
            new SortedDictionary<string, string?>(environment.Variables.Where(variable => variable.Value is not null).ToDictionary()));
        // Every other libpq variable is removed from the child's environment, not inherited from the runner's.
        Assert.Null(environment.Variables["PGSERVICE"]);
        Assert.Null(environment.Variables["PGHOSTADDR"]);
    }

    [Fact]
    public void Keeps_a_Unix_socket_directory_as_the_host()
    {
        var environment = LibpqEnvironment.From("Host=/var/run/postgresql;Port=5433;Username=postgres;Database=app", "test", database: "other");

        Assert.Equal(("/var/run/postgresql", "5433", "other"), (environment.Variables["PGHOST"], environment.Variables["PGPORT"], environment.Variables["PGDATABASE"]));
        Assert.Null(environment.Variables["PGPASSWORD"]);
    }

    [Fact]
    public void Blanks_the_password_out_of_what_a_tool_said()
    {
        var environment = LibpqEnvironment.From("Host=db;Username=app;Password=s3cret;Database=school", "test");

        Assert.Equal("connection with password ******** failed", environment.Redact("connection with password s3cret failed"));
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public async Task The_child_gets_the_password_in_its_environment_and_no_inherited_libpq_variable()
    {
        // PGSERVICEFILE does nothing unless PGSERVICE names a service, so setting it here cannot disturb tests running beside this one.
        Environment.SetEnvironmentVariable("PGSERVICEFILE", "/nonexistent/pg_service.conf");
        var printenv = new ClientTool("printenv", Path.Combine(Directory.CreateTempSubdirectory("pgdeploy-printenv-").FullName, "printenv"), 0);
        File.WriteAllText(printenv.Path, "#!/bin/sh\nenv\n");
        File.SetUnixFileMode(printenv.Path, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var output = await ClientToolRunner.RunAsync(
                printenv, [], LibpqEnvironment.From("Host=db;Username=app;Password=s3cret;Database=school", "test"), "printing its environment", "",
                CancellationToken.None);

            var variables = output.Split('\n').Where(line => line.StartsWith("PG", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
            Assert.Equal(["PGAPPNAME=test", "PGCONNECT_TIMEOUT=15", "PGDATABASE=school", "PGHOST=db", "PGKRBSRVNAME=postgres", "PGPASSWORD=s3cret", "PGPORT=5432", "PGSSLMODE=prefer", "PGUSER=app"],
                variables);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PGSERVICEFILE", null);
            Directory.Delete(Path.GetDirectoryName(printenv.Path)!, recursive: true);
        }
    }
}
