using Npgsql;

namespace PgDeploy.Safety;

/// <summary>
/// Creates an empty database exactly as a restore creates its new one, gives it the original's settings, grants, connection limit
/// and comment as the restore would, and drops it. What no catalog query promises shows up here, before anything changes: a
/// tablespace the runner may not create in, a locale the server lacks, a setting only a superuser may set.
/// </summary>
static class RestoreProbe
{
    /// <returns>Null when the runner could do it; otherwise the server's reason and the fix.</returns>
    public static async Task<string?> TryAsync(
        NpgsqlConnection maintenance, string maintenanceConnectionString, DatabaseProperties properties, string probe, string runner,
        CancellationToken cancellationToken)
    {
        var create = properties.CreateStatement(probe);
        try
        {
            await SafetyConnection.ExecuteAsync(maintenance, create, cancellationToken);
        }
        catch (PostgresException exception)
        {
            return $"the restore could not create its new database: {create} failed: {exception.MessageText} "
                   + $"(grant {runner} what that names)";
        }

        try
        {
            foreach (var statement in properties.CarryOverStatements(await DatabaseProperties.ReadAsync(maintenance, probe, cancellationToken)))
            {
                try
                {
                    await SafetyConnection.ExecuteAsync(maintenance, statement, cancellationToken);
                }
                catch (PostgresException exception)
                {
                    return $"the restore could not give its new database the original's properties: {statement} failed: {exception.MessageText} "
                           + $"(grant {runner} what that names, or change that property of '{properties.Name}')";
                }
            }

            return null;
        }
        finally
        {
            if (await ScratchDatabase.DropAsync(maintenanceConnectionString, probe, "probe database") is { } leftBehind)
            {
                throw new DeploymentException(
                    $"Checking the rights to restore '{properties.Name}' created a probe database and could not drop it: {leftBehind} "
                    + "Nothing else was changed.");
            }
        }
    }
}
