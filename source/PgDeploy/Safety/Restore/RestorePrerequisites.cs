using Dapper;
using Npgsql;

namespace PgDeploy.Safety;

/// <summary>The connection's role, and what it lacks of the database-wide privileges a restore needs (none for a superuser).</summary>
sealed record RestoreRunner(string Role, bool Superuser, IReadOnlyList<string> Missing);

/// <summary>
/// What a restore needs of the connection's role: CREATEDB (to create the replacement) and ownership of the database (to rename it),
/// or superuser; and, to carry over another role's ALTER ROLE … IN DATABASE settings, CREATEROLE or superuser.
/// </summary>
static class RestorePrerequisites
{
    const string PrivilegesSql =
        """
        SELECT r.rolname AS "Role", r.rolsuper AS "Superuser", r.rolcreatedb AS "CreateDb", r.rolcreaterole AS "CreateRole",
               pg_has_role(r.oid, d.datdba, 'MEMBER') AS "Owns", pg_get_userbyid(d.datdba) AS "Owner",
               EXISTS (SELECT FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole NOT IN (0, r.oid)) AS "OtherRolesHaveSettings"
        FROM pg_roles r CROSS JOIN pg_database d
        WHERE r.rolname = current_user AND d.datname = @name
        """;

    public static async Task<RestoreRunner> CheckAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        var privileges = await connection.QuerySingleOrDefaultAsync<Privileges>(
            new CommandDefinition(PrivilegesSql, new { name = database }, cancellationToken: cancellationToken))
            ?? throw new DeploymentException(
                $"Database '{database}' does not exist on this server, so it cannot be restored over. Check the connection URL's database; nothing was changed.");
        if (privileges.Superuser)
        {
            return new RestoreRunner(privileges.Role, Superuser: true, []);
        }

        var missing = new List<string>();
        if (!privileges.CreateDb)
        {
            missing.Add($"creating the new database needs CREATEDB (grant it with ALTER ROLE {privileges.Role} CREATEDB)");
        }

        if (!privileges.Owns)
        {
            missing.Add($"swapping names with the original needs ownership of '{database}', which '{privileges.Owner}' owns "
                        + $"(make it a member: GRANT {privileges.Owner} TO {privileges.Role})");
        }

        if (privileges.OtherRolesHaveSettings && !privileges.CreateRole)
        {
            missing.Add($"carrying over other roles' ALTER ROLE … IN DATABASE settings needs CREATEROLE (ALTER ROLE {privileges.Role} CREATEROLE)");
        }

        return new RestoreRunner(privileges.Role, Superuser: false, missing);
    }

    sealed record Privileges(string Role, bool Superuser, bool CreateDb, bool CreateRole, bool Owns, string Owner, bool OtherRolesHaveSettings);
}
