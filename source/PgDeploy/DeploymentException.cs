namespace PgDeploy;

/// The exit codes a pipeline or an operator acts on; each outcome type below carries its own.
public static class ExitCodes
{
    public const int Succeeded = 0;
    /// The deployment failed and the database is as before it: rolled back, or nothing had changed.
    public const int Failed = 1;
    /// Refused before anything changed: bad input, an unmet prerequisite, an unconfirmed or impossible step.
    public const int Refused = 2;
    /// A person is needed now: a rollback that could not finish, or an application that failed after the commit.
    public const int PersonNeeded = 3;
    public const int Interrupted = 130;
}

/// A failure the operator can act on: its message names the thing, the reason and the fix, and is
/// shown as it is, without a stack trace.
public class DeploymentException(string message, Exception? innerException = null) : Exception(message, innerException)
{
    public virtual int ExitCode => ExitCodes.Failed;
}

/// Refused before this run changed anything; the message ends with what to do instead.
public sealed class DeploymentRefusedException(string message, Exception? innerException = null) : DeploymentException(message, innerException)
{
    public override int ExitCode => ExitCodes.Refused;
}

/// The tool cannot finish or undo on its own what is now half done: the message says what is up and what to run.
public sealed class PersonNeededException(string message, Exception? innerException = null) : DeploymentException(message, innerException)
{
    public override int ExitCode => ExitCodes.PersonNeeded;
}
