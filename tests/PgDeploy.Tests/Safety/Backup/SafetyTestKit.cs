using System.Collections.Concurrent;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using PgDeploy.Postgres;
using PgDeploy.Safety;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace PgDeploy.Tests.Safety.Backup;

/// <summary>What the backup and restore tests share: a small database worth restoring, plain dumps to compare, run ids and directories.</summary>
[UnsupportedOSPlatform("windows")]
static partial class SafetyTestKit
{
    public const string EnvironmentName = "test";

    public static string NewRunId() => $"{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";

    public static string DatabaseOf(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Database!;

    /// <summary>A schema with the kinds of objects an application has: tables with keys, a partitioned table, a sequence, a view and a function.</summary>
    public static Task SeedAsync(string connectionString) => ExecuteAsync(connectionString,
        """
        CREATE SCHEMA app;
        CREATE TABLE app.accounts (id serial PRIMARY KEY, email text NOT NULL UNIQUE, balance numeric(12, 2) NOT NULL DEFAULT 0);
        CREATE TABLE app.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id int NOT NULL REFERENCES app.accounts, total numeric(12, 2));
        CREATE TABLE app.events (at date NOT NULL, what text) PARTITION BY RANGE (at);
        CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE TABLE public."empty table" (id int);
        CREATE SEQUENCE app.invoice_number START 1000;
        CREATE VIEW app.rich AS SELECT id, email FROM app.accounts WHERE balance > 100;
        CREATE FUNCTION app.total_balance() RETURNS numeric LANGUAGE sql AS 'SELECT sum(balance) FROM app.accounts';
        INSERT INTO app.accounts (email, balance) SELECT 'user' || n || '@example.com', n * 10 FROM generate_series(1, 50) n;
        INSERT INTO app.orders (account_id, total) SELECT 1 + n % 50, n FROM generate_series(1, 200) n;
        INSERT INTO app.events VALUES ('2025-06-01', 'signup'), ('2026-02-01', 'login'), ('2026-03-01', 'logout');
        SELECT setval('app.invoice_number', 1234);
        """);

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.ExecuteAsync(sql);
    }

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    /// <summary>A plain-format pg_dump as text, without the random \restrict key newer pg_dump versions put in every dump.</summary>
    public static async Task<string> PlainDumpAsync(string connectionString)
    {
        var pgDump = await PostgresBinaries.FindClientToolAsync("pg_dump");
        var dump = await ClientToolRunner.RunAsync(
            pgDump, [], LibpqEnvironment.From(connectionString, "pgdeploy tests"), "taking a plain dump", "", CancellationToken.None);
        return RestrictLine().Replace(dump, "");
    }

    /// <summary>Flips one byte in the middle of a custom-format dump (as root, its 0400 mode does not stop the write).</summary>
    public static void FlipOneByte(string path)
    {
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
    }

    public static void Truncate(string path)
    {
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var stream = new FileStream(path, FileMode.Open);
        stream.SetLength(stream.Length - 100);
    }

    [GeneratedRegex(@"^\\(un)?restrict .*$\n", RegexOptions.Multiline)]
    private static partial Regex RestrictLine();
}

/// <summary>A fresh directory for backups; deleted afterwards, read-only safe harbors included.</summary>
[UnsupportedOSPlatform("windows")]
sealed class BackupDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("pgdeploy-harbor-").FullName;

    public void Dispose()
    {
        foreach (var entry in new DirectoryInfo(Path).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            entry.UnixFileMode |= UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        }

        Directory.Delete(Path, recursive: true);
    }
}

/// <summary>What is logged while it is alive, each event rendered as the build's console shows it: "[WRN] message".</summary>
sealed class CapturedLog : ILogEventSink, IDisposable
{
    static readonly MessageTemplateTextFormatter Formatter = new("[{Level:u3}] {Message:lj}");
    readonly ILogger previous = Log.Logger;
    readonly ConcurrentQueue<string> events = new();

    public CapturedLog() => Log.Logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(this).CreateLogger();

    /// <summary>The events that mention <paramref name="text"/>, such as a test's own directory: tests of other collections may log meanwhile.</summary>
    public IReadOnlyList<string> Mentioning(string text) => events.Where(line => line.Contains(text, StringComparison.Ordinal)).ToList();

    public void Emit(LogEvent logEvent)
    {
        using var writer = new StringWriter();
        Formatter.Format(logEvent, writer);
        events.Enqueue(writer.ToString());
    }

    public void Dispose() => Log.Logger = previous;
}
