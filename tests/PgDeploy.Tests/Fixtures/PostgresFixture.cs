using System.Collections.Concurrent;
using Npgsql;
using PgDeploy.Postgres;
using Testcontainers.PostgreSql;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace PgDeploy.Tests.Fixtures;

/// <summary>
/// One real PostgreSQL server for the "postgres" collection, chosen in order: the server named by TEST_DATABASE_URL,
/// a Testcontainers postgres:15 container when a Docker engine answers, else a temporary local cluster.
/// </summary>
public sealed class PostgresFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    public const string UrlVariable = "TEST_DATABASE_URL";
    private const string DockerSocket = "/var/run/docker.sock";
    private static readonly TimeSpan ContainerStartTimeout = TimeSpan.FromSeconds(60);

    private readonly ConcurrentBag<string> createdDatabases = [];
    private IAsyncDisposable? ownedServer;

    /// <summary>Which server the tests run against, and why; also sent to the xunit diagnostics.</summary>
    public string Backend { get; private set; } = "";

    /// <summary>A connection string to the server's maintenance database, as a user that may CREATE DATABASE.</summary>
    public string ServerConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        (Backend, ServerConnectionString, ownedServer) = await ChooseServerAsync();
        diagnostics.OnMessage(new DiagnosticMessage($"PostgreSQL tests run against: {Backend}"));
    }

    /// <summary>The fixture's helpers over a server a test owns, e.g. one it crashes and restarts.</summary>
    public static PostgresFixture Over(string serverConnectionString) =>
        new(new NullMessageSink()) { Backend = "a server of the test's own", ServerConnectionString = serverConnectionString };

    /// <summary>A connection string to a new, empty database of its own.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = await DatabaseAdmin.CreateDatabaseAsync(ServerConnectionString);
        createdDatabases.Add(name);
        return DatabaseAdmin.WithDatabase(ServerConnectionString, name);
    }

    public async Task DisposeAsync()
    {
        if (ownedServer is not null)
        {
            await ownedServer.DisposeAsync();
            return;
        }

        // A server named by TEST_DATABASE_URL outlives the run, so only it needs the test databases dropped.
        foreach (var name in createdDatabases)
        {
            await DatabaseAdmin.DropDatabaseAsync(ServerConnectionString, name);
        }
    }

    private static async Task<(string Backend, string ConnectionString, IAsyncDisposable? Owned)> ChooseServerAsync()
    {
        if (Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } url)
        {
            var connectionString = PostgresUrl.ToNpgsqlConnectionString(url, UrlVariable);
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return ($"{UrlVariable} ({builder.Host}:{builder.Port})", connectionString, null);
        }

        var dockerNote = "no Docker engine (neither DOCKER_HOST nor " + DockerSocket + ")";
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } || File.Exists(DockerSocket))
        {
            PostgreSqlContainer? container = null;
            try
            {
                container = new PostgreSqlBuilder("postgres:15").Build();
                using var timeout = new CancellationTokenSource(ContainerStartTimeout);
                await container.StartAsync(timeout.Token);
                return ("Testcontainers postgres:15", container.GetConnectionString(), container);
            }
            catch (Exception exception)
            {
                if (container is not null)
                {
                    await container.DisposeAsync();
                }

                dockerNote = $"Docker did not start postgres:15: {exception.Message}";
            }
        }

        var cluster = await LocalCluster.StartTemporaryAsync();
        return ($"temporary local cluster, PostgreSQL {cluster.ServerMajorVersion} on {cluster.Host}:{cluster.Port} ({dockerNote})",
            cluster.ConnectionString(), cluster);
    }
}
