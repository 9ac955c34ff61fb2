namespace PgDeploy.Safety.Fence;

/// A session of an application role on the fenced database, as pg_stat_activity shows it to the runner.
/// <param name="Client">The client's address, "local socket", or null when the runner may not see it (it lacks pg_read_all_stats).</param>
public sealed record AppSession(int Pid, string Role, string? ApplicationName, string? Client, string? State)
{
    public override string ToString() =>
        $"pid {Pid} (role {Role}, application '{ApplicationName}', client {Client ?? "hidden from the runner"}, state {State ?? "hidden from the runner"})";
}
