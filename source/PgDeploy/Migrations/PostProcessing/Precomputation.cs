using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using PgDeploy.Migrations.History;
using PgDeploy.Postgres;
using PgDeploy.Safety;

namespace PgDeploy.Migrations.PostProcessing;

/// <summary>
/// The results one transform computed before the fence: a side table in the tool's schema with the row's key, a digest
/// of the row as the transform's source read it, and the values the target columns will hold. Inside the fence a row
/// whose source row still has the same digest takes its stored values; any other row is computed again.
/// </summary>
/// <remarks>
/// The digest is SHA-256 of the source row's JSON, computed by the server, so that the inputs (a plaintext password)
/// never leave the database for rows that were precomputed. A fast digest of a secret can be tested against guesses,
/// so the table is readable by its owner only (who can read the source rows anyway), and it goes in the transaction
/// that applies it, or when the deployment ends otherwise.
/// </remarks>
sealed class Precomputation(string stepName, string transformName, string identity)
{
    const string Prefix = "precomputed_";

    /// What the stored results depend on besides the source rows: the step's file and what the transform declares.
    public string Identity => identity;

    /// One table per transform of a step; the hash keeps the name within PostgreSQL's 63 bytes whatever the names.
    public string Table =>
        $"{HistoryTable.Schema}.{Prefix}{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{stepName}\n{transformName}")))[..16]}";

    public static string Digest(string alias) => $"sha256(convert_to(row_to_json({alias})::text, 'UTF8'))";

    /// The one test of "precomputed and unchanged": the stored row (aliased `stored`) was computed from the source row
    /// (aliased `source`) as it is now. The window applies the rows it joins, Survey counts and samples the rest.
    public static string Matches(string keyColumn) =>
        $"stored.key = source.{DatabaseAdmin.QuoteIdentifier(keyColumn)} AND stored.digest = {Digest("source")}";

    /// True for a source row (aliased `source`) that has a current stored result.
    public string HoldsCurrent(string keyColumn) => $"EXISTS (SELECT 1 FROM {Table} AS stored WHERE {Matches(keyColumn)})";

    /// False when there is none, or when it was made for another identity (another version of the step, other parameters).
    public async Task<bool> UsableAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT obj_description(to_regclass(@table), 'pg_class')", new { table = Table }, transaction, cancellationToken: cancellationToken)) == Comment;

    string Comment => $"pgdeploy precomputation of {transformName} in {stepName}; identity {identity}";

    /// Creates the table for this identity, replacing one made for another. Its key column has the type of the source's key.
    public async Task EnsureCreatedAsync(NpgsqlConnection connection, string source, string keyColumn, CancellationToken cancellationToken)
    {
        if (await UsableAsync(connection, null, cancellationToken))
            return;
        await using var transaction = await BeginWritableAsync(connection, cancellationToken);
        await Execute(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS {HistoryTable.Schema}; DROP TABLE IF EXISTS {Table}", cancellationToken);
        await Execute(connection, transaction,
            $"CREATE TABLE {Table} AS SELECT source.{DatabaseAdmin.QuoteIdentifier(keyColumn)} AS key, NULL::bytea AS digest, NULL::text[] AS result " +
            $"FROM ({source}) AS source WITH NO DATA", cancellationToken);
        await Execute(connection, transaction, $"ALTER TABLE {Table} ADD PRIMARY KEY (key), ALTER COLUMN digest SET NOT NULL, ALTER COLUMN result SET NOT NULL", cancellationToken);
        await Execute(connection, transaction, $"COMMENT ON TABLE {Table} IS {SqlLiteral.Quote(Comment)}", cancellationToken);
        await RevokeFromAllButOwnerAsync(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// Default privileges of the schema may grant new tables to others; the digests are for the owner's eyes only.
    async Task RevokeFromAllButOwnerAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var grantees = await connection.QueryAsync<string>(new CommandDefinition(
            """
            SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END
            FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) acl
            WHERE c.oid = to_regclass(@table) AND acl.grantee <> c.relowner
            """, new { table = Table }, transaction, cancellationToken: cancellationToken));
        foreach (var grantee in grantees.Append("PUBLIC").Distinct())
            await Execute(connection, transaction, $"REVOKE ALL ON {Table} FROM {grantee}", cancellationToken);
    }

    /// Before the fence the session precomputing is read-only by default, so that a step's own statements cannot write;
    /// the precomputation's own writes say so explicitly.
    public static async Task<NpgsqlTransaction> BeginWritableAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Execute(connection, transaction, "SET TRANSACTION READ WRITE", cancellationToken);
        return transaction;
    }

    /// Every precomputation in the database, this plan's and any an older plan or another identity left: when a deployment
    /// ends, nothing it computed aside may stay. In <paramref name="transaction"/> when the upgrade's commit is to take them;
    /// only those this role may drop, so that another runner's leftover never fails a commit.
    public static async Task<int> DropAllAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var tables = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
            "WHERE n.nspname = @schema AND c.relkind = 'r' AND c.relname LIKE @prefix AND pg_has_role(c.relowner, 'USAGE')",
            new { schema = HistoryTable.Schema, prefix = Prefix + "%" }, transaction, cancellationToken: cancellationToken))).ToList();
        foreach (var table in tables)
            await Execute(connection, transaction, $"DROP TABLE IF EXISTS {table}", cancellationToken);
        return tables.Count;
    }

    static Task<int> Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, commandTimeout: 0, cancellationToken: cancellationToken));
}
