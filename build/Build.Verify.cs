using PgDeploy.Reporting;
using PgDeploy.Safety.Verification;
using Serilog;

/// Verification happens inside the upgrade's transaction: only a verified upgrade is committed.
partial class Build
{
    async Task VerifyAndCommitAsync(CancellationToken cancellationToken)
    {
        var run = await UpgradeAsync(cancellationToken);
        await run.PlanAsync(cancellationToken);
        var session = run.Session!;
        var verifyDirectory = Path.Combine(Catalog.Find(TargetVersion)!.Directory, PgDeploy.Migrations.MigrationCatalog.VerifyFolder);
        var report = await new IntegrityVerifier(session.Connection, await session.TransactionForChecksAsync(cancellationToken))
            .VerifyAsync(verifyDirectory, RecordedSafeHarbor.Manifest.RowCountsByName, cancellationToken);

        DeploymentJournal.Checks.AddRange(report.Checks.Select(check => new CheckRecord(check.Name, check.Figure, check.Verdict != Verdict.Failed, check.Detail, check.Verdict == Verdict.Informational)));
        DeploymentJournal.Record(nameof(Verify), report.Summary);
        Log.Information("{Report}", report.ToMarkdown());
        FailIfInjected(nameof(Verify));
        report.ThrowIfFailed();

        await run.CommitAsync(cancellationToken);
        DeploymentJournal.Record(nameof(Verify), $"upgrade to {TargetVersion} committed");
        ReportSummary($"{report.Summary}; committed");
    }
}
