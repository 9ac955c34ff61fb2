namespace TargetEngine.Tests;

/// <summary>The shape of the production build: a collective Deploy, a failure-triggered Rollback and an assured Report.</summary>
internal class DeployBuild : BuildBase
{
    [Parameter("Target that throws")] readonly string FailAt = "";
    [Parameter("Makes Rollback throw")] readonly bool FailRollback = false;

    public static BuildResult? Finished;

    Target Backup => _ => _
        .Description("Dumps the database")
        .Executes(() => Step(nameof(Backup)));

    Target Migrate => _ => _
        .DependsOn(Backup)
        .Executes(() =>
        {
            ReportSummary("applied 3 migrations");
            Step(nameof(Migrate));
        });

    Target Verify => _ => _
        .DependsOn(Migrate)
        .Executes(() => Step(nameof(Verify)));

    internal Target Deploy => _ => _
        .Description("Upgrades the database")
        .DependsOn(Verify);

    Target Rollback => _ => _
        .TriggeredByFailureOf(Migrate, Verify)
        .Executes(() =>
        {
            if (FailRollback)
                throw new InvalidOperationException("restore failed");
        });

    Target Report => _ => _
        .TriggeredBy(Backup)
        .After(Verify, Rollback)
        .AssuredAfterFailure()
        .Unlisted()
        .Executes(() => { });

    void Step(string name)
    {
        if (FailAt == name)
            throw new InvalidOperationException($"{name} broke\nsecond line");
    }

    protected override void OnBuildFinished(BuildResult result) => Finished = result;
}
