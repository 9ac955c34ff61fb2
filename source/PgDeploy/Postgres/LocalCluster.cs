using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using CliWrap.Buffered;
using Npgsql;
using Serilog;

namespace PgDeploy.Postgres;

/// <summary>
/// A PostgreSQL cluster run from the server binaries on this machine, listening on 127.0.0.1 only:
/// either temporary (tests; removed on dispose) or persistent (the `local` environment; kept between runs).
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private const string Superuser = "postgres";
    private const string StartTimeoutSeconds = "60";

    // Below the OS's ephemeral range, so no outgoing connection takes a persistent cluster's port while it is stopped; 5432 is left to a system cluster.
    private static readonly IEnumerable<int> PersistentPorts = Enumerable.Range(5433, 67);

    private readonly ClusterLayout layout;
    private readonly ServerBinaries binaries;
    private readonly bool temporary;
    private readonly ConcurrentDictionary<string, bool> handedOutConnectionStrings = new();
    private OwnerDeathWatchdog? watchdog;
    private int disposed;

    private LocalCluster(ClusterLayout layout, ServerBinaries binaries, int port, string password, bool temporary)
    {
        this.layout = layout;
        this.binaries = binaries;
        this.temporary = temporary;
        Port = port;
        Password = password;
    }

    public string Host => "127.0.0.1";
    public int Port { get; }
    public string Username => Superuser;
    public string Password { get; }
    public string DataDirectory => layout.DataDirectory;
    public int ServerMajorVersion => binaries.MajorVersion;

    /// <summary>Starts a throwaway cluster tuned for speed in a fresh temp directory; dispose stops it and deletes the directory.</summary>
    public static async Task<LocalCluster> StartTemporaryAsync(CancellationToken cancellationToken = default)
    {
        var binaries = await PostgresBinaries.FindServerAsync(cancellationToken: cancellationToken);
        var layout = new ClusterLayout(Directory.CreateTempSubdirectory("pgdeploy-pg-").FullName);
        var cluster = new LocalCluster(layout, binaries, FindFreePort([]), NewPassword(), temporary: true);
        // Both before anything can fail: ProcessExit covers an owner that exits without disposing, the watchdog one that is killed.
        AppDomain.CurrentDomain.ProcessExit += cluster.StopAtProcessExit;
        cluster.watchdog = cluster.StartWatchdog(Environment.ProcessId);
        try
        {
            SecretFile.Write(layout.InitDbPasswordFile, cluster.Password);
            await cluster.InitializeAsync(layout.InitDbPasswordFile, cancellationToken);
            await cluster.StartAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts (creating it on first use) a durable cluster kept under <paramref name="clusterDirectory"/>, which holds data/, cluster.json
    /// (the port, fixed once chosen) and superuser.password (0600). A cluster that is already running is only connected to.
    /// </summary>
    public static async Task<LocalCluster> StartPersistentAsync(string clusterDirectory, CancellationToken cancellationToken = default)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("Local PostgreSQL clusters need Linux or macOS: run the tool in WSL or a Linux container.");
        }

        var layout = new ClusterLayout(Path.GetFullPath(clusterDirectory));
        Directory.CreateDirectory(layout.Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var state = ClusterState.Load(layout.StateFile);
        if (layout.IsInitialized && (state is null || !File.Exists(layout.PasswordFile)))
        {
            throw new PostgresSetupException(
                $"{layout.Root} holds a PostgreSQL data directory but not its {Path.GetFileName(layout.StateFile)} or {Path.GetFileName(layout.PasswordFile)}, "
                + "so its port or superuser password is unknown. Delete the directory to create a fresh cluster.");
        }

        var binaries = await PostgresBinaries.FindServerAsync(layout.IsInitialized ? layout.DataMajorVersion : null, cancellationToken);
        if (!File.Exists(layout.PasswordFile))
        {
            SecretFile.Write(layout.PasswordFile, NewPassword());
        }

        if (state is null)
        {
            state = new ClusterState(FindFreePort(PersistentPorts));
            state.Save(layout.StateFile);
        }

        var cluster = new LocalCluster(layout, binaries, state.Port, SecretFile.Read(layout.PasswordFile), temporary: false);
        if (!layout.IsInitialized)
        {
            await cluster.InitializeAsync(layout.PasswordFile, cancellationToken);
        }

        if (await cluster.IsRunningAsync(cancellationToken))
        {
            Log.Debug("PostgreSQL in {DataDirectory} is already running on port {Port}", cluster.DataDirectory, cluster.Port);
        }
        else
        {
            await cluster.StartAsync(cancellationToken);
        }

        await cluster.CheckLoginAsync(cancellationToken);
        return cluster;
    }

    /// <summary>An Npgsql connection string for the superuser over TCP with the password (SCRAM).</summary>
    public string ConnectionString(string database = "postgres")
    {
        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Username = Username,
            Password = Password,
            Database = database,
        }.ConnectionString;
        handedOutConnectionStrings.TryAdd(connectionString, true);
        return connectionString;
    }

    public Task<string> CreateDatabaseAsync(string? name = null, string? template = null, CancellationToken cancellationToken = default) =>
        DatabaseAdmin.CreateDatabaseAsync(ConnectionString(), name, template, cancellationToken);

    public Task DropDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        DatabaseAdmin.DropDatabaseAsync(ConnectionString(), name, cancellationToken);

    /// <summary>Stops the server: a fast, clean shutdown for a persistent cluster; an immediate one for a temporary cluster, whose data is discarded anyway.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (!await IsRunningAsync(cancellationToken))
        {
            return;
        }

        var mode = temporary ? "immediate" : "fast";
        var result = await ServerOsUser.RunAsync(binaries.PgCtl, ["stop", "-D", DataDirectory, "-m", mode, "-w"], cancellationToken);
        if (!result.IsSuccess)
        {
            throw Failure("pg_ctl stop", result, "Stop the postgres process of this data directory by hand (its PID is in postmaster.pid).");
        }

        // Pooled connections to a stopped server are dead, and a restart on the same port would otherwise be handed them.
        foreach (var connectionString in handedOutConnectionStrings.Keys)
        {
            NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
        }

        Log.Debug("Stopped PostgreSQL in {DataDirectory}", DataDirectory);
    }

    /// <summary>A temporary cluster is stopped and deleted; a persistent one keeps running for the next command.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!temporary || Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= StopAtProcessExit;
        watchdog?.Dispose();
        try
        {
            await StopAsync();
        }
        finally
        {
            if (Directory.Exists(layout.Root))
            {
                Directory.Delete(layout.Root, recursive: true);
            }

            Log.Debug("Deleted temporary cluster directory {Root}", layout.Root);
        }
    }

    /// <summary>Starts a watchdog that stops and deletes this cluster when process <paramref name="ownerPid"/> is gone.</summary>
    internal OwnerDeathWatchdog StartWatchdog(int ownerPid) => OwnerDeathWatchdog.Start(
        ownerPid, layout.Root, ServerOsUser.CommandLine(binaries.PgCtl, ["stop", "-D", DataDirectory, "-m", "immediate", "-w"]));

    private async Task InitializeAsync(string passwordFile, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(layout.SocketDirectory);
        await ServerOsUser.HandOverAsync(layout.Root, [layout.Root, layout.SocketDirectory, passwordFile], cancellationToken);
        string[] durability = temporary ? ["--no-sync"] : [];
        BufferedCommandResult result;
        try
        {
            result = await ServerOsUser.RunAsync(binaries.InitDb, [
                "-D", DataDirectory, "-U", Superuser, "--auth=scram-sha-256", $"--pwfile={passwordFile}",
                "--encoding=UTF8", "--no-locale", .. durability,
            ], cancellationToken);
        }
        finally
        {
            if (temporary)
            {
                File.Delete(passwordFile);
            }
        }

        if (!result.IsSuccess)
        {
            throw Failure("initdb", result, $"Check free disk space and that {DataDirectory} did not exist before.");
        }

        // Appending keeps the file's owner, which matters when root writes into the postgres user's cluster.
        await File.AppendAllTextAsync(layout.ConfigFile, ServerSettings.Render(Port, temporary), cancellationToken);
        Log.Debug("Initialized PostgreSQL {Major} cluster in {DataDirectory}", ServerMajorVersion, DataDirectory);
    }

    /// <summary>Starts the server of this cluster; after StopAsync, a temporary cluster goes through crash recovery, as after a power cut.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var result = await ServerOsUser.RunAsync(
            binaries.PgCtl, ["start", "-D", DataDirectory, "-l", layout.LogFile, "-w", "-t", StartTimeoutSeconds], cancellationToken);
        if (!result.IsSuccess)
        {
            throw Failure("pg_ctl start", result,
                $"The server log below says why; a port {Port} used by another program, or a postmaster.pid left by a crash whose process is gone, are the usual causes.");
        }

        Log.Debug("Started PostgreSQL {Major} in {DataDirectory} on {Host}:{Port}", ServerMajorVersion, DataDirectory, Host, Port);
    }

    private async Task<bool> IsRunningAsync(CancellationToken cancellationToken) =>
        (await ServerOsUser.RunAsync(binaries.PgCtl, ["status", "-D", DataDirectory], cancellationToken)).IsSuccess;

    private async Task CheckLoginAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString());
            await connection.OpenAsync(cancellationToken);
        }
        catch (NpgsqlException exception)
        {
            throw new PostgresSetupException(
                $"The PostgreSQL cluster in {DataDirectory} is running but does not accept the superuser login on {Host}:{Port} "
                + $"({exception.Message}). The port or password in {layout.Root} no longer match the server: stop it with "
                + $"`pg_ctl stop -D {DataDirectory}`, or delete {layout.Root} to start over.");
        }
    }

    private PostgresSetupException Failure(string step, BufferedCommandResult result, string fix)
    {
        var output = (string.IsNullOrWhiteSpace(result.StandardError) ? result.StandardOutput : result.StandardError).Trim();
        return new PostgresSetupException(
            $"{step} failed for the PostgreSQL cluster in {DataDirectory} (exit code {result.ExitCode}): {output.ReplaceLineEndings(" ").TrimEnd('.')}. {fix}"
            + $"{Environment.NewLine}Last lines of {layout.LogFile}:{Environment.NewLine}{layout.LogTail()}");
    }

    // Synchronous on purpose: the runtime does not wait for asynchronous work once the process is exiting.
    private void StopAtProcessExit(object? sender, EventArgs e)
    {
        try
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (Exception exception)
        {
            Log.Warning(exception, "Could not stop the temporary PostgreSQL cluster in {Root} at process exit", layout.Root);
        }
    }

    /// <summary>The first of <paramref name="preferred"/> that is free on 127.0.0.1, else one the OS picks.</summary>
    private static int FindFreePort(IEnumerable<int> preferred)
    {
        foreach (var port in preferred)
        {
            try
            {
                return Bind(port);
            }
            catch (SocketException)
            {
                Log.Debug("Port {Port} on 127.0.0.1 is taken", port);
            }
        }

        return Bind(0);

        static int Bind(int port)
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }

    private static string NewPassword() =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 32);
}
