using Dapper;
using Npgsql;

namespace PgDeploy.Safety.Fence;

/// REVOKE CONNECT is the per-database fence (fence.scope database): a role shared by many databases keeps working on the
/// others. It holds only for roles whose CONNECT is their own grant: one that comes from PUBLIC, from a role they belong to,
/// or from being superuser survives the revoke, so the revoke is checked, not assumed.
static class DatabaseConnect
{
    /// Revokes each role's own CONNECT grant on the database, then says why any role can still connect (empty: it holds).
    /// Said which roles had a grant of their own, which lift gives back. Checked only after every revoke: a role may connect
    /// through another fenced role until that one's grant is gone too.
    public static async Task<(IReadOnlyList<FencedRole> Roles, IReadOnlyList<string> Problems)> RevokeAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string database, IEnumerable<string> roles, CancellationToken cancellationToken)
    {
        var fenced = new List<FencedRole>();
        var problems = new List<string>();
        var refused = new HashSet<string>();
        foreach (var role in roles)
        {
            var grant = await connection.QuerySingleAsync<(bool Granted, bool Grantable)>(new CommandDefinition(
                """
                SELECT count(*) > 0, coalesce(bool_or(a.is_grantable), false)
                FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a JOIN pg_roles r ON r.oid = a.grantee
                WHERE d.datname = @database AND r.rolname = @role AND a.privilege_type = 'CONNECT'
                """, new { database, role }, transaction, cancellationToken: cancellationToken));
            // Revoking a grant option would take back whatever the role granted on with it, which lift could not give back.
            if (grant.Grantable && refused.Add(role))
                problems.Add(
                    $"'{role}' holds CONNECT on database '{database}' WITH GRANT OPTION, which a revoke would take from whoever it granted CONNECT to as well: " +
                    $"grant it CONNECT without the option (REVOKE GRANT OPTION FOR CONNECT ON DATABASE {database} FROM {role} CASCADE, then grant CONNECT again " +
                    "to the roles that lost it), or set fence.scope to roles");
            else if (grant.Granted)
                await CatalogCommand.ExecuteAsync(connection, transaction, "REVOKE CONNECT ON DATABASE %I FROM %I", [database, role], cancellationToken);
            fenced.Add(new FencedRole(role, grant.Granted && !grant.Grantable));
        }
        foreach (var role in fenced.Select(role => role.Name).Where(role => !refused.Contains(role)))
        {
            if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                    "SELECT has_database_privilege(@role, @database, 'CONNECT')", new { database, role }, transaction, cancellationToken: cancellationToken)))
                problems.Add(Problem(role, database));
        }
        return (fenced, problems);
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
    static string Problem(string role, string database) =>
        $"'{role}' could still connect to database '{database}' after REVOKE CONNECT: PUBLIC, a role it belongs to, or being superuser gives it CONNECT. " +
        $"REVOKE CONNECT ON DATABASE {database} FROM PUBLIC and GRANT CONNECT ON DATABASE {database} TO the roles that need it, or set fence.scope to roles";
}
