using Dapper;
using Npgsql;

namespace PgDeploy.Safety.Fence;

/// REVOKE CONNECT is the per-database fence (fence.scope database): a role shared by many databases keeps working on the
/// others. It holds only for roles whose CONNECT is their own grant: one that comes from PUBLIC, from a role they belong to,
/// or from being superuser survives the revoke, so the revoke is checked, not assumed.
static class DatabaseConnect
{
    /// Revokes each role's own CONNECT grant on the database, then names the roles that can still connect (empty: it holds).
    /// Said which roles had a grant of their own, which lift gives back.
    public static async Task<(IReadOnlyList<FencedRole> Roles, IReadOnlyList<string> StillConnect)> RevokeAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string database, IEnumerable<string> roles, CancellationToken cancellationToken)
    {
        var fenced = new List<FencedRole>();
        var stillConnect = new List<string>();
        foreach (var role in roles)
        {
            var granted = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                """
                SELECT EXISTS (SELECT FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a
                               JOIN pg_roles r ON r.oid = a.grantee
                               WHERE d.datname = @database AND r.rolname = @role AND a.privilege_type = 'CONNECT')
                """, new { database, role }, transaction, cancellationToken: cancellationToken));
            if (granted)
                await CatalogCommand.ExecuteAsync(connection, transaction, "REVOKE CONNECT ON DATABASE %I FROM %I", [database, role], cancellationToken);
            if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                    "SELECT has_database_privilege(@role, @database, 'CONNECT')", new { database, role }, transaction, cancellationToken: cancellationToken)))
                stillConnect.Add(role);
            fenced.Add(new FencedRole(role, granted));
        }
        return (fenced, stillConnect);
    }

    /// Grants CONNECT back to each role that still exists and returns the ones that no longer do.
    public static async Task<IReadOnlyList<string>> GrantAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string database, IEnumerable<string> roles, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        foreach (var role in roles)
        {
            var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = @role)", new { role }, transaction, cancellationToken: cancellationToken));
            if (exists)
                await CatalogCommand.ExecuteAsync(connection, transaction, "GRANT CONNECT ON DATABASE %I TO %I", [database, role], cancellationToken);
            else
                missing.Add(role);
        }
        return missing;
    }

    /// Why a role can still connect after the revoke, with the fix.
    public static string Problem(string role, string database) =>
        $"'{role}' could still connect to database '{database}' after REVOKE CONNECT: PUBLIC, a role it belongs to, or being superuser gives it CONNECT. " +
        $"REVOKE CONNECT ON DATABASE {database} FROM PUBLIC and GRANT CONNECT ON DATABASE {database} TO the roles that need it, or set fence.scope to roles";
}
