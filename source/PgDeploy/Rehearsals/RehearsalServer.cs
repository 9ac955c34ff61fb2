using Dapper;
using Npgsql;
using PgDeploy.Deployments;
using PgDeploy.Postgres;
using PgDeploy.Safety;

namespace PgDeploy.Rehearsals;

/// <summary>
/// Where a rehearsal makes its scratch copy: the live database's own server, or the rehearsal server that rehearsal.server names.
/// </summary>
/// <param name="ConnectionString">The server, as the runner reaches it; its database is the one to stand on while creating and dropping.</param>
/// <param name="IsLiveCluster">The live database's cluster (same system identifier): its roles are the live database's own.</param>
sealed record RehearsalServer(string ConnectionString, string Description, bool IsLiveCluster)
{
    /// <param name="configured">The rehearsal server's connection string, from the variable <paramref name="variable"/>; null for the live server.</param>
    public static async Task<RehearsalServer> ResolveAsync(
        string liveConnectionString, DatabaseIdentity live, string? configured, string? variable, CancellationToken cancellationToken)
    {
        if (configured is null)
            return new RehearsalServer(DatabaseAdmin.WithDatabase(liveConnectionString, DatabaseAdmin.MaintenanceDatabase(live.Database)), "the live server", true);
        await using var connection = await SafetyConnection.OpenAsync(configured, null, cancellationToken);
        var identity = await DatabaseIdentity.ReadAsync(connection, cancellationToken);
        // Rehearse writes only to its scratch database, but a URL that names the live database shows that whoever set it
        // believes it is somewhere else: better to stop than to rehearse where the operator did not mean to.
        if (identity == live)
            throw new DeploymentRefusedException(
                $"rehearsal.server names {variable}, and that URL points at the live database itself ({live}). A rehearsal must run beside it, " +
                "never in it: point the URL at a rehearsal server (or at another database of this server to stand on, e.g. postgres), " +
                "or leave rehearsal.server out to rehearse in a scratch database on the live server. Nothing was changed.");
        return new RehearsalServer(configured, $"{connection.Host}:{connection.Port}", identity.SystemIdentifier == live.SystemIdentifier);
    }

    /// <summary>
    /// Another cluster has roles of its own: every role that owns an object of the live database or holds a grant in it must exist
    /// there too, or pg_restore stops at the first ALTER … OWNER TO or GRANT that names a missing one.
    /// </summary>
    public async Task CheckRolesAsync(string liveConnectionString, string runner, NpgsqlConnection here, CancellationToken cancellationToken)
    {
        if (IsLiveCluster)
            return;
        await using var liveDatabase = await SafetyConnection.OpenAsync(liveConnectionString, null, cancellationToken);
        // Owners as pg_dump sees them (the bootstrap superuser's objects are not in pg_shdepend), and every role a grant names.
        var owners = (await RestoreRoles.CheckAsync(liveDatabase, runner, cancellationToken)).Roles;
        var granted = await liveDatabase.QueryAsync<string>(new CommandDefinition(
            """
            SELECT DISTINCT r.rolname FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid
            CROSS JOIN (SELECT oid, datdba FROM pg_database WHERE datname = current_database()) db
            WHERE d.refclassid = 'pg_authid'::regclass AND (d.dbid = db.oid OR (d.classid = 'pg_database'::regclass AND d.objid = db.oid))
            UNION SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()
            """, cancellationToken: cancellationToken));
        var needed = owners.Union(granted).Order(StringComparer.Ordinal).ToArray();
        var missing = (await here.QueryAsync<string>(new CommandDefinition(
            "SELECT name FROM unnest(@needed) AS name WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) ORDER BY 1",
            new { needed }, cancellationToken: cancellationToken))).ToList();
        if (missing.Count > 0)
            throw new DeploymentRefusedException(
                $"The rehearsal server {Description} has no role {string.Join(", ", missing.Select(role => $"'{role}'"))}, which " +
                $"{(missing.Count == 1 ? "owns objects of or holds" : "own objects of or hold")} grants in database '{liveDatabase.Database}': restoring its dump there would stop at them. " +
                "Create the roles there (pg_dumpall --roles-only --no-role-passwords on the live server lists them), then run again; nothing was changed.");
    }
}
