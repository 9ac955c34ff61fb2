using Dapper;
using Npgsql;

namespace PgDeploy.Safety.Fence;

/// ALTER ROLE ... NOLOGIN is the fence itself: the server rejects every new session of the role,
/// whatever the client sets, on every database of the cluster (the attribute is cluster-wide), and a
/// role that owns the database is rejected too, unlike with REVOKE CONNECT.
static class RoleLogins
{
    /// Makes each role NOLOGIN and says which of them could log in before.
    public static async Task<IReadOnlyList<FencedRole>> DisableAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<string> roles, CancellationToken cancellationToken)
    {
        var fenced = new List<FencedRole>();
        foreach (var role in roles)
        {
            var couldLogIn = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT rolcanlogin FROM pg_roles WHERE rolname = @role", new { role }, transaction, cancellationToken: cancellationToken));
            if (couldLogIn)
                await CatalogCommand.ExecuteAsync(connection, transaction, "ALTER ROLE %I NOLOGIN", [role], cancellationToken);
            fenced.Add(new FencedRole(role, couldLogIn));
        }
        return fenced;
    }

    /// Gives LOGIN back to each role that still exists and returns the ones that no longer do.
    public static async Task<IReadOnlyList<string>> EnableAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<string> roles, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        foreach (var role in roles)
        {
            var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = @role)", new { role }, transaction, cancellationToken: cancellationToken));
            if (exists)
                await CatalogCommand.ExecuteAsync(connection, transaction, "ALTER ROLE %I LOGIN", [role], cancellationToken);
            else
                missing.Add(role);
        }
        return missing;
    }
}
