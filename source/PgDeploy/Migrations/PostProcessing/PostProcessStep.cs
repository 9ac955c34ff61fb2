namespace PgDeploy.Migrations.PostProcessing;

/// A C# data transform of one application version. It lives in migrations/v<major>.<minor>/NNN_Name.cs
/// as `class Name : PostProcessStep` in namespace Migrations.V<major>_<minor>, runs in the upgrade's
/// transaction at its place in the version's order, and is recorded in the history like a script.
public abstract class PostProcessStep
{
    public abstract string Description { get; }

    public abstract Task ExecuteAsync(StepContext context);
}
