namespace PgDeploy.Migrations.PostProcessing;

/// A C# data transform of one application version. It lives in migrations/v&lt;major&gt;.&lt;minor&gt;/NNN_Name.cs
/// as `class Name : PostProcessStep` in namespace Migrations.V&lt;major&gt;_&lt;minor&gt;, runs in the upgrade's
/// transaction at its place in the version's order, and is recorded in the history like a script.
public abstract class PostProcessStep
{
    public abstract string Description { get; }

    public abstract Task ExecuteAsync(StepContext context);
}
