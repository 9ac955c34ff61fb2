namespace PgDeploy.Deployments;

/// What this run amounts to, for its exit code: it collects the outcome types its steps ended with. A refusal
/// counts as one only while the run has changed nothing; a person needed outweighs everything.
public sealed class RunVerdict
{
    bool refused, failed, personNeeded;

    /// Set once this run wrote a pending state or acted on the database or the application.
    public bool ChangedSomething { get; private set; }

    public void Changed() => ChangedSomething = true;

    public void Record(Exception exception)
    {
        switch (exception)
        {
            case PersonNeededException:
                personNeeded = true;
                break;
            case DeploymentRefusedException when !ChangedSomething:
                refused = true;
                break;
            default:
                failed = true;
                break;
        }
    }

    public void PersonNeeded() => personNeeded = true;

    /// Null when the deployment has nothing to say and the engine's own code stands.
    public int? ExitCode(bool interrupted) =>
        personNeeded ? ExitCodes.PersonNeeded
        : refused && !failed ? ExitCodes.Refused
        : interrupted ? ExitCodes.Interrupted
        : failed ? ExitCodes.Failed
        : null;
}
