using Npgsql;

namespace PgDeploy.Safety.Verification;

/// One orphan check for every foreign key in the database, NOT VALID ones included: PostgreSQL has
/// never checked the rows that existed when such a key was added.
static class ForeignKeyChecks
{
    public static async Task<IReadOnlyList<CheckResult>> RunAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, GuardedQuery query, CancellationToken cancellationToken)
    {
        var checks = new List<CheckResult>();
        foreach (var key in await ForeignKeyCatalog.ReadAsync(connection, transaction, cancellationToken))
        {
            var reference = key.Reference;
            var note = key.Validated ? "" : "NOT VALID: PostgreSQL never checked the rows older than the constraint.";
            checks.Add(await OrphanCheck.RunAsync(query, $"Foreign key {key.Name}: {reference}{(reference.MatchFull ? " MATCH FULL" : "")}", reference, note, cancellationToken));
        }
        return checks;
    }
}
