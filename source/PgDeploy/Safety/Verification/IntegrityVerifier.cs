using Npgsql;

namespace PgDeploy.Safety.Verification;

/// Checks the upgraded database inside the upgrade's transaction, before it commits: no orphans under
/// any foreign key or declared reference, the expected row counts, the version's verify queries
/// returning nothing, and no invalid index. Every check is reported, passed or not; a failed check
/// does not stop the others, and none of them changes the transaction (see GuardedQuery).
public sealed class IntegrityVerifier(NpgsqlConnection connection, NpgsqlTransaction transaction)
{
    /// <param name="verifyDirectory">The target version's verify folder (migrations/v&lt;version&gt;/verify): references.json, counts.json and *.sql, each optional.</param>
    /// <param name="backupCounts">Exact row counts captured at backup, by table name as PostgreSQL reads it ("users", "app.\"Order Items\"").</param>
    public async Task<IntegrityReport> VerifyAsync(string verifyDirectory, IReadOnlyDictionary<string, long> backupCounts, CancellationToken cancellationToken)
    {
        var query = new GuardedQuery(connection, transaction);
        return new IntegrityReport(
        [
            .. await ForeignKeyChecks.RunAsync(connection, transaction, query, cancellationToken),
            .. await DeclaredReferenceChecks.RunAsync(verifyDirectory, query, cancellationToken),
            .. await RowCountChecks.RunAsync(verifyDirectory, backupCounts, query, cancellationToken),
            .. await VerifyQueryChecks.RunAsync(verifyDirectory, query, cancellationToken),
            await InvalidIndexCheck.RunAsync(connection, transaction, cancellationToken),
        ]);
    }
}
