using Dapper;
using Npgsql;

namespace PgDeploy.Safety.Verification;

/// An invalid index is what a failed CREATE INDEX CONCURRENTLY leaves behind: the planner ignores it,
/// yet every write keeps updating it, and a unique one may not be enforcing anything.
static class InvalidIndexCheck
{
    const string Name = "Invalid indexes";

    public static async Task<CheckResult> RunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var invalid = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT format('%s on %s', i.indexrelid::regclass, i.indrelid::regclass) FROM pg_index i WHERE NOT i.indisvalid ORDER BY 1",
            transaction: transaction, cancellationToken: cancellationToken))).ToList();
        return invalid.Count == 0
            ? CheckResult.Of(Name, "0 invalid", passed: true, "")
            : CheckResult.Of(Name, $"{invalid.Count} invalid", passed: false,
                $"{string.Join(", ", invalid)}: drop each with DROP INDEX CONCURRENTLY and build it again (a unique one fails on duplicate rows: remove them first)");
    }
}
