using PgDeploy.Environments;
using PgDeploy.Migrations;
using PgDeploy.Migrations.Analysis;
using PgDeploy.Progress;

namespace PgDeploy.Deployments;

/// The operator's console: asks the person at the terminal and shows long work; the build knows whether there is one.
public interface IOperatorConsole
{
    bool CanAsk { get; }
    string Ask(string question);
    /// Dump, restore, checksums and data steps report here: a bar on a terminal, log lines elsewhere (see LoggedProgress).
    IWorkProgress Progress { get; }
}

/// What one run of the tool asks of the deployment: the environment, the version and the operator's options.
public sealed record DeploymentRequest
{
    public required DeploymentEnvironment Environment { get; init; }
    /// The local environment starts its cluster to learn its connection string, hence a function.
    public required Func<CancellationToken, Task<string>> ConnectionString { get; init; }
    public required Func<MigrationCatalog> Catalog { get; init; }
    /// The linter and parser that check the scripts before the fence: the build's own, installed beside it by build.sh.
    public required SqlTools SqlTools { get; init; }
    /// Hooks run there, and relative backup directories are resolved from it.
    public required string RootDirectory { get; init; }
    /// Where each database's journal and reports live: &lt;directory&gt;/&lt;database key&gt;/journal.json.
    public required string DeploymentsDirectory { get; init; }
    /// --journal: one file instead (a CI artifact); it must belong to the same database.
    public string? JournalPath { get; init; }
    public AppVersion? TargetVersion { get; init; }
    public string? BackupFile { get; init; }
    /// The target that fails on purpose after its work (--inject-failure).
    public string? InjectFailure { get; init; }
    public string? ConfirmDatabase { get; init; }
    public bool DiscardWritesSinceRestart { get; init; }
    /// Production is confirmed already (--yes: in CI, the protected environment's reviewers approved).
    public bool Confirmed { get; init; }
    public required IOperatorConsole Console { get; init; }
    /// The files, besides the process environment, that hooks and ${VARIABLES} read: .env and the like.
    public IReadOnlyList<string> EnvironmentFiles { get; init; } = [];

    public string EnvironmentName => Environment.Name;
    public EnvironmentSettings Settings => Environment.Settings;

    public string BackupDirectory => Path.Combine(RootDirectory, Settings.Backup.Directory);
}
