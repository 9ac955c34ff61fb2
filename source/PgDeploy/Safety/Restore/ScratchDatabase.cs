using Npgsql;
using PgDeploy.Postgres;
using Serilog;

namespace PgDeploy.Safety;

/// <summary>
/// Drops a database a restore made for itself (the probe, a half-restored copy), whatever the cancellation token says: one left
/// behind under a name that looks deliberate would mislead.
/// </summary>
static class ScratchDatabase
{
    /// <param name="what">What it is, for the operator, e.g. "partly restored database".</param>
    /// <returns>Null once it is dropped; otherwise why not, and the statement that drops it.</returns>
    public static async Task<string?> DropAsync(string maintenanceConnectionString, string name, string what)
    {
        try
        {
            await DatabaseAdmin.DropDatabaseAsync(maintenanceConnectionString, name, CancellationToken.None);
            return null;
        }
        catch (NpgsqlException exception)
        {
            Log.Warning("Could not drop the {What} {Database}: {Reason}", what, name, exception.Message);
            return $"the {what} '{name}' could not be dropped ({exception.Message.TrimEnd('.')}): drop it with DROP DATABASE {DatabaseAdmin.QuoteIdentifier(name)};";
        }
    }
}
