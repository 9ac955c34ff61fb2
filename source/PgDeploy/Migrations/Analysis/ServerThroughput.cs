using System.Diagnostics;
using Dapper;
using Npgsql;

namespace PgDeploy.Migrations.Analysis;

/// <summary>
/// How fast this server scans, writes, rewrites and indexes, in bytes of table per second: measured on a temporary table of
/// generated rows (1 to 20 MB) in a transaction that is rolled back, so that estimates are in this server's seconds, not a
/// rule of thumb. A temporary table skips WAL and the shared buffers, so the figures are an estimate, and are called one.
/// </summary>
public sealed record ServerThroughput(double Scan, double Write, double Rewrite, double Index)
{
    const string Table = "pgdeploy_throughput";

    /// <param name="bytesWorked">What the plan's statements work on: the sample has about as many bytes, from 1 MB to 20 MB.</param>
    public static async Task<ServerThroughput> MeasureAsync(NpgsqlConnection connection, long bytesWorked, CancellationToken cancellationToken)
    {
        // A generated row takes about 100 bytes.
        var rows = Math.Clamp(bytesWorked / 100, 10_000, 200_000);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Room for the whole table in memory, as the shared buffers give a real one: on a fresh session, before any temporary table.
        await Timed($"SET LOCAL statement_timeout = '2min'; SET LOCAL temp_buffers = '64MB'; CREATE TEMP TABLE {Table} ON COMMIT DROP AS " +
                    $"SELECT g AS id, md5(g::text) AS a, md5((g * 7)::text) AS b FROM generate_series(1, {rows}) AS g");
        var bytes = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT pg_table_size('{Table}')", transaction: transaction, cancellationToken: cancellationToken));
        var scan = await Timed($"SELECT count(*) FROM {Table} WHERE a = b");
        var write = await Timed($"UPDATE {Table} SET b = a");
        var rewrite = await Timed($"ALTER TABLE {Table} ALTER COLUMN id TYPE bigint");
        var index = await Timed($"CREATE INDEX ON {Table} (a)");
        await transaction.RollbackAsync(cancellationToken);
        return new ServerThroughput(bytes / scan, bytes / write, bytes / rewrite, bytes / index);

        async Task<double> Timed(string sql)
        {
            var clock = Stopwatch.StartNew();
            await connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: cancellationToken));
            return Math.Max(clock.Elapsed.TotalSeconds, 0.001);
        }
    }

    public override string ToString() =>
        $"scan {Scan / 1048576:N0} MB/s, write {Write / 1048576:N0} MB/s, rewrite {Rewrite / 1048576:N0} MB/s, index {Index / 1048576:N0} MB/s";
}
