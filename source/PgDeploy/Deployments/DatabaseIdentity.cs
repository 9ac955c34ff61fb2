using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace PgDeploy.Deployments;

/// Which database a deployment, a journal and a safe harbor belong to: the cluster's system identifier (the same
/// for every connection path to it, and for its physical replicas) and the database's name. Not its OID: a
/// rollback's restore gives the database a new OID under the same name, and it is still the same database.
public sealed partial record DatabaseIdentity(string SystemIdentifier, string Database)
{
    public static async Task<DatabaseIdentity> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        await connection.QuerySingleAsync<DatabaseIdentity>(new CommandDefinition(
            "SELECT system_identifier::text AS SystemIdentifier, current_database() AS Database FROM pg_control_system()",
            cancellationToken: cancellationToken));

    /// A folder name for this database's journal and reports: readable, and unique per cluster.
    public string Key => $"{UnsafeCharacters().Replace(Database, "_")}-{SystemIdentifier}";

    public override string ToString() => $"database '{Database}' of cluster {SystemIdentifier}";

    [GeneratedRegex("[^A-Za-z0-9._+-]")]
    private static partial Regex UnsafeCharacters();
}
