using Npgsql;
using PgDeploy.Postgres;
using PgDeploy.Safety.Verification;

namespace PgDeploy.Safety;

/// <summary>
/// Whether every validated constraint holds over the rows that exist, as pg_restore will require: it loads each table's rows under
/// the CHECK constraints pg_dump writes into CREATE TABLE, and validates each foreign key as it re-adds it after the data. Rows can
/// break them all the same: written with session_replication_role = replica, which skips the foreign keys' triggers, under a CHECK
/// whose function has changed since, or after damage to the catalog. A dump of such a database cannot be restored, so it must be
/// refused before the fence goes up. NOT VALID constraints come back NOT VALID, notChecked, and are left out.
/// </summary>
public static class RestorableConstraints
{
    const int ExampleCount = 5;

    /// <summary>Checks every validated foreign key and CHECK constraint, each query bounded by <paramref name="statementTimeout"/>.</summary>
    /// <returns>What holds, e.g. "12 foreign keys and 4 check constraints hold over the existing rows".</returns>
    /// <exception cref="DeploymentException">A constraint does not hold, or could not be checked; every one is named.</exception>
    public static async Task<string> CheckAsync(string connectionString, TimeSpan statementTimeout, CancellationToken cancellationToken)
    {
        await using var connection = await SafetyConnection.OpenAsync(connectionString, null, cancellationToken);
        // One snapshot for all the checks. The empty search_path is pg_restore's: expressions are written out, and evaluated, as it will.
        await using var transaction = await GuardedQuery.BeginSnapshotAsync(connection, statementTimeout, "search_path = ''", cancellationToken);
        var query = new GuardedQuery(connection, transaction);
        var foreignKeys = (await ForeignKeyCatalog.ReadAsync(connection, transaction, cancellationToken)).Where(key => key.Validated).ToList();
        var checks = await CheckConstraint.ReadAsync(connection, transaction, cancellationToken);

        var broken = new List<string>();
        var notChecked = new List<string>();
        foreach (var key in foreignKeys)
        {
            var what = $"foreign key {key.Name} on {key.Reference.Child}";
            try
            {
                var orphans = await query.CountWithExamplesAsync(OrphanQuery.FromWhere(key.Reference), OrphanQuery.Keys(key.Reference), ExampleCount, cancellationToken);
                if (orphans.Count > 0)
                {
                    broken.Add($"{what}: {Rows(orphans)} no parent in {key.Reference.Parent}, e.g. {string.Join(", ", orphans.Examples)}; "
                               + $"delete them (DELETE {OrphanQuery.FromWhere(key.Reference)}) or give them a parent"
                               + (key.OnPartitionedTable && connection.PostgreSqlVersion.Major < 18
                                   ? " (a foreign key on a partitioned table cannot be NOT VALID before PostgreSQL 18)"
                                   : $", or keep them by re-adding the key NOT VALID ({ReAddNotValid(key.Reference.Child, key.Name, key.Definition)})"));
                }
            }
            catch (PostgresException exception)
            {
                notChecked.Add(Unchecked(what, exception, statementTimeout));
            }
        }

        foreach (var check in checks)
        {
            var what = $"check constraint {check.Name} on {check.TableName}";
            try
            {
                var failing = await query.CountWithExamplesAsync(check.FromWhere, check.Keys, ExampleCount, cancellationToken);
                if (failing.Count > 0)
                {
                    broken.Add($"{what}: {Rows(failing)} a value that fails {check.Definition}, e.g. {string.Join(", ", failing.Examples)}; "
                               + $"correct or delete them (DELETE {check.FromWhere}), or keep them by re-adding the constraint NOT VALID "
                               + $"({ReAddNotValid(check.TableName, check.Name, check.Definition)})");
                }
            }
            catch (PostgresException exception)
            {
                notChecked.Add(Unchecked(what, exception, statementTimeout));
            }
        }

        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        if (broken.Count > 0 || notChecked.Count > 0)
        {
            var findings = new List<string>();
            if (broken.Count > 0)
            {
                findings.Add($"these do not hold: {string.Join("; ", broken)}");
            }

            if (notChecked.Count > 0)
            {
                findings.Add($"these could not be checked, so the dump is not proven restorable: {string.Join("; ", notChecked)}");
            }

            throw new DeploymentException(
                $"A safe harbor of database '{database}' would not restore: pg_restore re-checks every validated foreign key and CHECK constraint "
                + $"over the rows it loads, and {string.Join("; and ", findings)}. Nothing was changed.");
        }

        return $"{CheckResult.Counted(foreignKeys.Count, "foreign key")} and {CheckResult.Counted(checks.Count, "check constraint")} hold over the existing rows";
    }

    static string Rows(GuardedQuery.Rows rows) => rows.Count == 1 ? "1 row has" : $"{rows.Count} rows have";

    static string ReAddNotValid(TableName table, string name, string definition) =>
        $"ALTER TABLE {table.Sql} DROP CONSTRAINT {DatabaseAdmin.QuoteIdentifier(name)}, ADD CONSTRAINT {DatabaseAdmin.QuoteIdentifier(name)} {definition} NOT VALID";

    // A query the statement timeout cancelled proves nothing: the check fails rather than pass on what it did not see.
    static string Unchecked(string what, PostgresException exception, TimeSpan statementTimeout) =>
        exception.SqlState == PostgresErrorCodes.QueryCanceled
            ? $"{what} was not checked within the statement timeout of {statementTimeout.TotalSeconds:0.###} s ({exception.MessageText}): "
              + "raise the timeout, or check when the server is less busy"
            : $"{what} could not be checked: the query failed with {exception.SqlState}: {exception.MessageText}; fix what it names";
}
