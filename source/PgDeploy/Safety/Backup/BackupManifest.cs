using System.Text.Json;
using System.Text.Json.Serialization;
using PgDeploy.Environments;
using PgDeploy.Postgres;

namespace PgDeploy.Safety;

/// <summary>
/// What a safe harbor is, written beside it as &lt;dump&gt;.manifest.json: which deployment it belongs to, the versions that made
/// it, its checksum, and the exact row count of every table at the moment of the dump. It never holds a secret.
/// </summary>
public sealed record BackupManifest
{
    public const string FileSuffix = ".manifest.json";

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public required string Environment { get; init; }
    public required string Database { get; init; }
    /// <summary>host:port, to tell servers apart when reading old manifests.</summary>
    public required string Server { get; init; }
    /// <summary>The server's server_version, e.g. "15.13 (Debian 15.13-1.pgdg120+1)".</summary>
    public required string ServerVersion { get; init; }
    public required int ServerVersionNum { get; init; }
    /// <summary>pg_dump --version, e.g. "pg_dump (PostgreSQL) 15.13 (Debian 15.13-1.pgdg120+1)".</summary>
    public required string PgDumpVersion { get; init; }
    /// <summary>The application version the database was at, as the caller knew it; null when unknown.</summary>
    public required string? AppVersion { get; init; }
    public required string RunId { get; init; }
    /// <summary>The dump's own name, without a directory, so a safe harbor can be moved together with its manifest.</summary>
    public required string FileName { get; init; }
    public required DumpFormat Format { get; init; }
    public required long SizeBytes { get; init; }
    /// <summary>pg_database_size when the dump began: how big a restore of it will be, about (without the bloat); null in older manifests.</summary>
    public long? DatabaseSizeBytes { get; init; }
    public required string Sha256 { get; init; }
    public required IReadOnlyList<TableRowCount> RowCounts { get; init; }
    /// <summary>Which database and which state of it the dump holds, and inside which fence it was taken; null in a dump
    /// taken without a deployment, which can then not be proven to be any deployment's safe harbor.</summary>
    public HarborProvenance? Provenance { get; init; }
    public required DateTime StartedUtc { get; init; }
    public required DateTime FinishedUtc { get; init; }
    public required TimeSpan Duration { get; init; }

    [JsonIgnore]
    public int PgDumpMajorVersion => PostgresBinaries.ParseMajorVersion(PgDumpVersion) ?? 0;

    /// <summary>Rows by <see cref="TableRowCount.Name"/>, the form Verify's row-count expectations use.</summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, long> RowCountsByName => RowCounts.ToDictionary(count => count.Name, count => count.Rows);

    public static string PathFor(string dumpPath) => dumpPath + FileSuffix;

    /// <summary>Reads a manifest; a missing or unreadable one is refused with <paramref name="advice"/>, because without it nothing can be checked.</summary>
    public static BackupManifest Read(string manifestPath, string advice)
    {
        if (!File.Exists(manifestPath))
        {
            throw new DeploymentException(
                $"The dump has no manifest ({manifestPath}): it was not taken as a safe harbor by this tool, or its manifest was lost, "
                + $"so its checksum and row counts cannot be checked. {advice}");
        }

        try
        {
            return JsonSerializer.Deserialize<BackupManifest>(File.ReadAllText(manifestPath), JsonOptions)
                   ?? throw new JsonException("it is empty");
        }
        catch (JsonException exception)
        {
            throw new DeploymentException($"The manifest {manifestPath} cannot be read ({exception.Message}), so the dump cannot be checked. {advice}");
        }
    }

    /// <summary>Writes the manifest to a new file; it never replaces one.</summary>
    internal async Task WriteAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        await JsonSerializer.SerializeAsync(stream, this, JsonOptions, cancellationToken);
    }
}

/// <summary>What makes a dump the safe harbor of one state of one database.</summary>
/// <param name="SystemIdentifier">The cluster's system identifier: with the database name, the database's identity.</param>
/// <param name="HistoryDigest">The applied history at the moment of the dump (see HistoryDigest).</param>
/// <param name="FenceRunId">The run that raised the fence the dump was taken inside; null when none was up.</param>
/// <param name="FenceRaisedAt">When that fence went up, as its record in the catalog says.</param>
public sealed record HarborProvenance(string SystemIdentifier, string HistoryDigest, string? FenceRunId, DateTimeOffset? FenceRaisedAt);

/// <summary>The exact count(*) of one table. A partitioned table has no data of its own in a dump: its rows are its partitions'.</summary>
/// <param name="Name">The table as PostgreSQL writes it, quoted where needed and without the public schema: users, app."Order Items".</param>
public sealed record TableRowCount(string Schema, string Table, string Name, bool Partitioned, long Rows)
{
    public override string ToString() => $"{Schema}.{Table}";
}
