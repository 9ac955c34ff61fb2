using Dapper;
using Npgsql;

namespace PgDeploy.Safety;

/// <summary>
/// What a restore needs of the connection's role, checked before anything changes: CREATEDB (to create the replacement) and
/// ownership of the database (to rename it), or superuser; and, to carry over another role's ALTER ROLE … IN DATABASE settings,
/// CREATEROLE or superuser.
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

    public static async Task CheckAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        var privileges = await connection.QuerySingleOrDefaultAsync<Privileges>(
            new CommandDefinition(PrivilegesSql, new { name = database }, cancellationToken: cancellationToken))
            ?? throw new DeploymentException(
                $"Database '{database}' does not exist on this server, so it cannot be restored over. Check the connection URL's database; nothing was changed.");
        if (privileges.Superuser)
        {
            return;
        }

        var missing = new List<string>();
        if (!privileges.CreateDb)
        {
            missing.Add($"CREATEDB (grant it with ALTER ROLE {privileges.Role} CREATEDB)");
        }

        if (!privileges.Owns)
        {
            missing.Add($"ownership of '{database}', which '{privileges.Owner}' owns (make it a member: GRANT {privileges.Owner} TO {privileges.Role})");
        }

        if (privileges.OtherRolesHaveSettings && !privileges.CreateRole)
        {
            missing.Add($"CREATEROLE, to carry over other roles' ALTER ROLE … IN DATABASE settings (ALTER ROLE {privileges.Role} CREATEROLE)");
        }

        if (missing.Count > 0)
        {
            throw new DeploymentException(
                $"Role '{privileges.Role}' cannot restore database '{database}': a restore creates a new database and swaps names with the original, "
                + $"which needs {string.Join("; ", missing)}. Grant that, or run as a superuser; nothing was changed.");
        }
    }

    sealed record Privileges(string Role, bool Superuser, bool CreateDb, bool CreateRole, bool Owns, string Owner, bool OtherRolesHaveSettings);
}
