using System.Security.Cryptography;
using Npgsql;

namespace PgDeploy.Safety;

/// <summary>
/// Whether the connection's role can restore its database: the database-wide privileges, the roles pg_restore must act as and,
/// before a deployment, a trial creation of the new database. Every reason it cannot is given in one paragraph, so that one round
/// of grants fixes them all.
/// </summary>
static class RestoreRights
{
    /// <summary>What a restore checks before it creates anything: all that the catalogs can tell.</summary>
    public static async Task CheckAsync(NpgsqlConnection maintenance, string connectionString, string database, CancellationToken cancellationToken)
    {
        var runner = await RestorePrerequisites.CheckAsync(maintenance, database, cancellationToken);
        var roles = await CheckRolesAsync(runner, connectionString, cancellationToken);
        ThrowIfAny(runner, database, [.. runner.Missing, .. roles.Problems]);
    }

    /// <summary>For the Prerequisites target: also creates and drops a probe database the way the restore creates its new one.</summary>
    /// <returns>What was proven, e.g. "created and dropped 'shop__probe_1a2b3c4d' as the restore will; may rename 'shop' and act as dep".</returns>
    public static async Task<string> ProbeAsync(
        NpgsqlConnection maintenance, string maintenanceConnectionString, string connectionString, string database, CancellationToken cancellationToken)
    {
        var runner = await RestorePrerequisites.CheckAsync(maintenance, database, cancellationToken);
        var problems = new List<string>(runner.Missing);
        var probe = RestoreNames.Probe(database, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        // Without those privileges the trial could only fail for the reasons already named.
        if (runner.Missing.Count == 0)
        {
            var properties = await DatabaseProperties.ReadAsync(maintenance, database, cancellationToken);
            if (await RestoreProbe.TryAsync(maintenance, maintenanceConnectionString, properties, probe, runner.Role, cancellationToken) is { } failure)
            {
                problems.Add(failure);
            }
        }

        var roles = await CheckRolesAsync(runner, connectionString, cancellationToken);
        ThrowIfAny(runner, database, [.. problems, .. roles.Problems]);
        var created = $"created and dropped '{probe}' as the restore will";
        return runner.Superuser
            ? $"{created}, as the superuser {runner.Role}"
            : $"{created}; may rename '{database}'{(roles.Roles.Count == 0 ? "" : $" and act as {string.Join(", ", roles.Roles)}")}";
    }

    // A superuser may act as any role, so its restore needs no session on the database itself.
    static async Task<RoleCheck> CheckRolesAsync(RestoreRunner runner, string connectionString, CancellationToken cancellationToken)
    {
        if (runner.Superuser)
        {
            return new RoleCheck([], []);
        }

        await using var database = await SafetyConnection.OpenAsync(connectionString, null, cancellationToken);
        return await RestoreRoles.CheckAsync(database, runner.Role, cancellationToken);
    }

    static void ThrowIfAny(RestoreRunner runner, string database, IReadOnlyList<string> problems)
    {
        if (problems.Count > 0)
        {
            throw new DeploymentException(
                $"Role '{runner.Role}' cannot restore database '{database}': {string.Join("; ", problems)}. "
                + (runner.Superuser ? "Nothing was changed." : "Fix that, or run as a superuser; nothing was changed."));
        }
    }
}
