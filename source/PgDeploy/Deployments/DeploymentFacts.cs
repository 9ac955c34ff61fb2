namespace PgDeploy.Deployments;

/// What the application's hooks and checks are told about the deployment they are part of.
public sealed record DeploymentFacts(string Environment, string RunId, string? FromVersion, string? ToVersion);
