using Npgsql;
using PgDeploy.Progress;
using Serilog;

namespace PgDeploy.Migrations.PostProcessing;

/// Runs the plan's C# data steps before the fence, on a session of their own that is read-only by default: to store
/// what their transforms can compute ahead (Precompute), or to count what is left to compute inside the window (Survey).
/// A step that cannot run there is reported, never fatal: its rows are computed inside the window, as without Precompute.
public static class DataStepPrecompute
{
    public static async Task<IReadOnlyList<PrecomputeCoverage>> RunAsync(
        string connectionString, UpgradePlan plan, StepMode mode, MigrationSettings settings, IWorkProgress progress, CancellationToken cancellationToken)
    {
        var steps = plan.Steps.Select(planned => planned.Step).OfType<CSharpStep>().ToList();
        if (steps.Count == 0)
            return [];
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = $"pgdeploy {mode.ToString().ToLowerInvariant()}", Pooling = false, CommandTimeout = 0,
            Options = "-c default_transaction_read_only=on",
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        var coverage = new List<PrecomputeCoverage>();
        foreach (var step in steps)
        {
            var instance = (PostProcessStep)Activator.CreateInstance(step.StepType)!;
            if (mode == StepMode.Precompute)
                Log.Information("{Step}: {Description}", step.DisplayName, instance.Description);
            var context = new StepContext(connection, null, mode == StepMode.Precompute ? Log.Logger : Serilog.Core.Logger.None,
                settings.DegreeOfParallelism, cancellationToken, progress, mode, step)
            {
                // A step reads the schema of the version before its own: while an earlier version is pending, that schema does not exist yet.
                PrecomputeProblem = step.Version == plan.PendingVersions[0]
                    ? null
                    : $"{plan.PendingVersions[0]} is pending too, and the schema its source reads exists only once the versions before {step.Version} are applied",
            };
            try
            {
                await instance.ExecuteAsync(context);
            }
            // A step whose own queries need the new schema (or that fails otherwise) costs the window its rows, not the deployment.
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                var problem = $"the step failed before the fence ({exception.Message})";
                Log.Warning("{Step}: not precomputed: {Problem}; its rows are computed inside the window", step.DisplayName, problem);
                context.Coverage.Add(new PrecomputeCoverage(step.DisplayName, "its transforms", true, 0, 0, 0, problem));
            }
            coverage.AddRange(context.Coverage);
        }
        return coverage;
    }
}
