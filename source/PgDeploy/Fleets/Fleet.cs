using Dapper;
using Npgsql;
using PgDeploy.Environments;

namespace PgDeploy.Fleets;

/// The databases of a fleet environment, checked to be on the server, and the waves they deploy in.
public sealed record Fleet(string Environment, IReadOnlyList<string> Databases, FleetSettings Settings)
{
    /// <param name="connectionString">The environment's connection: its database runs fleet.query and is none of the fleet's.</param>
    public static async Task<Fleet> ResolveAsync(string environment, FleetSettings settings, string connectionString, CancellationToken cancellationToken)
    {
        if (settings.Canary < 0 || settings.Parallelism < 1)
            throw new DeploymentRefusedException(
                $"Environment '{environment}': fleet.canary is {settings.Canary} and fleet.parallelism {settings.Parallelism}; the canary is 0 or more " +
                "databases and the parallelism 1 or more deployments at a time. Fix the settings file; nothing was changed.");
        if ((settings.Databases.Count > 0) == (settings.Query is not null))
            throw new DeploymentRefusedException(
                $"Environment '{environment}' must name its databases in exactly one way: fleet.databases (a list of names) or fleet.query " +
                "(a query that returns one name per row). Fix the settings file; nothing was changed.");

        // Not pooled: the environment's database may be one of the fleet's, whose Backup clones it with no other session on it.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        var names = settings.Query is { } query
            ? (await connection.QueryAsync<string>(new CommandDefinition(query, cancellationToken: cancellationToken))).ToList()
            : [.. settings.Databases];
        var origin = settings.Query is null ? "fleet.databases" : "fleet.query";
        if (names.Count == 0)
            throw new DeploymentRefusedException($"Environment '{environment}': {origin} names no database. Fix the settings (or the query); nothing was changed.");
        if (names.GroupBy(name => name).Where(group => group.Count() > 1).Select(group => group.Key).ToList() is { Count: > 0 } twice)
            throw new DeploymentRefusedException($"Environment '{environment}': {origin} names {string.Join(", ", twice)} more than once. Name each database once; nothing was changed.");
        var existing = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT datname FROM pg_catalog.pg_database WHERE datname = ANY(@names)", new { names }, cancellationToken: cancellationToken))).ToHashSet();
        if (names.Where(name => !existing.Contains(name)).ToList() is { Count: > 0 } missing)
            throw new DeploymentRefusedException(
                $"Environment '{environment}': {origin} names {string.Join(", ", missing)}, which the server does not have. Create them, or remove them " +
                "from the fleet; nothing was changed.");
        return new Fleet(environment, names, settings);
    }

    public bool Contains(string database) => Databases.Contains(database);

    /// The canary's databases one by one, then the rest fleet.parallelism at a time.
    public IReadOnlyList<IReadOnlyList<string>> Waves =>
    [
        .. Databases.Take(Settings.Canary).Select(database => (IReadOnlyList<string>)[database]),
        .. Databases.Skip(Settings.Canary).Chunk(Settings.Parallelism),
    ];
}

/// <summary>
/// The fleet as a CI engine's job matrix, for fleets beyond one machine: the canary's databases one job at a time, then the
/// rest fleet.parallelism at a time; fleet.onFailure stop is fail-fast (the engine cancels the running jobs, and a cancelled
/// deployment rolls back as on Ctrl-C).
/// </summary>
public sealed record FleetMatrix(IReadOnlyList<string> Canary, IReadOnlyList<string> Rest, int MaxParallel, bool FailFast)
{
    public static FleetMatrix Of(Fleet fleet) =>
        new([.. fleet.Databases.Take(fleet.Settings.Canary)], [.. fleet.Databases.Skip(fleet.Settings.Canary)], fleet.Settings.Parallelism,
            fleet.Settings.OnFailure == FleetFailurePolicy.Stop);

    /// <summary>The step outputs a workflow reads with fromJSON: name=value lines for $GITHUB_OUTPUT.</summary>
    public IReadOnlyList<string> GitHubOutputs =>
    [
        $"canary={System.Text.Json.JsonSerializer.Serialize(Canary)}",
        $"rest={System.Text.Json.JsonSerializer.Serialize(Rest)}",
        $"max-parallel={MaxParallel}",
        $"fail-fast={(FailFast ? "true" : "false")}",
    ];
}
