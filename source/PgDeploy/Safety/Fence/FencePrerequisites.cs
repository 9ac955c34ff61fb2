using Dapper;
using Npgsql;
using PgDeploy.Environments;

namespace PgDeploy.Safety.Fence;

/// Finds, before anything changes, the configurations in which the fence would not hold.
///
/// What really breaks it: a role that is missing (nothing to fence), the runner being an application
/// role (NOLOGIN would lock out the runner that must lift it), a superuser application role with a
/// non-superuser runner (only a superuser may alter a superuser or end its sessions), a runner that may
/// not alter the roles, end their sessions, or set the database's default and comment, and a LOGIN role
/// that is a member of an application role (it keeps the application's privileges while fenced).
/// What does not: an application role that owns the database. NOLOGIN rejects the owner like anyone
/// else, and the runner can still end its sessions. A per-database fence (fence.scope database) needs no
/// CREATEROLE, but a revoke that holds: it is tried in a transaction that is rolled back.
static class FencePrerequisites
{
    sealed record RoleRow(string Name, bool Exists, bool IsSuperuser, bool IsRunner, bool RunnerCanAlter, bool RunnerCanEndSessions);

    sealed record Runner(string Name, bool IsSuperuser, string Database, string Owner, bool OwnsDatabase);

    sealed record MemberRow(string Member, string Role);

    public static async Task<FenceCheck> CheckAsync(NpgsqlConnection connection, IReadOnlyList<string> roles, FenceScope scope, CancellationToken cancellationToken)
    {
        var runner = await connection.QuerySingleAsync<Runner>(new CommandDefinition(
            """
            SELECT current_user AS Name, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS IsSuperuser,
                   datname AS Database, pg_get_userbyid(datdba) AS Owner, pg_has_role(current_user, datdba, 'USAGE') AS OwnsDatabase
            FROM pg_database WHERE datname = current_database()
            """, cancellationToken: cancellationToken));
        var problems = new List<string>();
        if (roles.Count == 0)
            problems.Add("fence.roles lists no application role, so the fence would stop no one: list the roles the application connects as in the environment's settings");
        if (!runner.OwnsDatabase)
            problems.Add($"the runner '{runner.Name}' does not own database '{runner.Database}' (its owner is '{runner.Owner}'), and only the owner may set the " +
                         $"database's default_transaction_read_only and its comment, where the fence keeps its record: ALTER DATABASE ... OWNER TO {runner.Name}, or GRANT {runner.Owner} TO {runner.Name}");

        var rows = await connection.QueryAsync<RoleRow>(new CommandDefinition(
            // CREATEROLE may alter any non-superuser role up to PostgreSQL 15; from 16 on only those it holds with ADMIN OPTION.
            """
            SELECT r.name AS Name, a.oid IS NOT NULL AS Exists, coalesce(a.rolsuper, false) AS IsSuperuser, r.name = current_user AS IsRunner,
                   coalesce(CASE WHEN a.rolsuper THEN me.rolsuper
                                 ELSE me.rolsuper OR (me.rolcreaterole AND (current_setting('server_version_num')::int < 160000
                                                                            OR pg_has_role(me.oid, a.oid, 'MEMBER WITH ADMIN OPTION'))) END, false) AS RunnerCanAlter,
                   coalesce(me.rolsuper OR (NOT a.rolsuper AND (pg_has_role(me.oid, 'pg_signal_backend', 'USAGE') OR pg_has_role(me.oid, a.oid, 'USAGE'))), false)
                       AS RunnerCanEndSessions
            FROM unnest(@roles) WITH ORDINALITY r(name, position)
            CROSS JOIN pg_roles me
            LEFT JOIN pg_roles a ON a.rolname = r.name
            WHERE me.rolname = current_user
            ORDER BY r.position
            """, new { roles = roles.ToArray() }, cancellationToken: cancellationToken));
        foreach (var role in rows)
            problems.AddRange(ProblemsOf(role, runner, scope));
        if (scope == FenceScope.Database && runner.OwnsDatabase && rows.All(role => role.Exists && !role.IsRunner))
            problems.AddRange(await TryRevokeAsync(connection, runner.Database, roles, cancellationToken));

        var members = await connection.QueryAsync<MemberRow>(new CommandDefinition(
            """
            SELECT m.rolname AS Member, a.rolname AS Role
            FROM pg_roles a JOIN pg_roles m ON m.oid <> a.oid AND pg_has_role(m.oid, a.oid, 'MEMBER')
            WHERE a.rolname = ANY(@roles) AND m.rolcanlogin AND NOT m.rolsuper AND m.rolname <> ALL(@roles) AND m.rolname <> current_user
            ORDER BY 1, 2
            """, new { roles = roles.ToArray() }, cancellationToken: cancellationToken));
        problems.AddRange(members.Select(member =>
            $"'{member.Member}' can log in and is a member of '{member.Role}', so it could still write with the application's privileges: " +
            $"add it to fence.roles, or REVOKE {member.Role} FROM {member.Member}"));

        return new FenceCheck(runner.Database, problems);
    }

    /// Why the revoke would not hold, found by doing it and rolling it back.
    static async Task<IReadOnlyList<string>> TryRevokeAsync(NpgsqlConnection connection, string database, IReadOnlyList<string> roles, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var (_, problems) = await DatabaseConnect.RevokeAsync(connection, transaction, database, roles, cancellationToken);
        await transaction.RollbackAsync(cancellationToken);
        return problems;
    }

    static IEnumerable<string> ProblemsOf(RoleRow role, Runner runner, FenceScope scope)
    {
        if (!role.Exists)
        {
            yield return $"role '{role.Name}' in fence.roles does not exist on this server: correct the name";
            yield break;
        }
        if (role.IsRunner)
        {
            yield return $"the runner connects as '{role.Name}', one of the application's roles, and {(scope == FenceScope.Database ? "the revoked CONNECT" : "NOLOGIN")} " +
                         "would lock it out before it could lift the fence: connect the runner as a role of its own";
            yield break;
        }
        if (scope == FenceScope.Database)
        {
            if (!role.RunnerCanEndSessions)
                yield return $"the runner '{runner.Name}' may not end the sessions of '{role.Name}': GRANT pg_signal_backend TO {runner.Name}";
            yield break;
        }
        if (role.IsSuperuser && !runner.IsSuperuser)
        {
            yield return $"'{role.Name}' is a superuser, and only a superuser may make it NOLOGIN or end its sessions: run the application as an ordinary role " +
                         "(recommended), or the runner as a superuser";
            yield break;
        }
        if (!role.RunnerCanAlter)
            yield return $"the runner '{runner.Name}' may not make '{role.Name}' NOLOGIN: ALTER ROLE {runner.Name} CREATEROLE " +
                         $"(on PostgreSQL 16 and later also GRANT {role.Name} TO {runner.Name} WITH ADMIN OPTION)";
        if (!role.RunnerCanEndSessions)
            yield return $"the runner '{runner.Name}' may not end the sessions of '{role.Name}': GRANT pg_signal_backend TO {runner.Name}";
    }
}
