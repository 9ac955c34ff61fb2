namespace PgDeploy;

/// A failure the operator can act on: its message names the thing, the reason and the fix, and is
/// shown as it is, without a stack trace.
public class DeploymentException(string message, Exception? innerException = null) : Exception(message, innerException);
