using System.Diagnostics;
using Migrations.V0_2;
using PgDeploy.Migrations;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Migrations;

[Collection(PostgresCollection.Name)]
public sealed class ConcurrentDeploymentTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_second_deployment_waits_for_the_lock_then_fails_naming_the_holder_and_every_step_is_applied_once()
    {
        using var migrations = MigrationFolder.CreateTemporary();
        migrations.Script("0.2", "010_create_ledger.sql", "CREATE TABLE ledger (id serial PRIMARY KEY, entry text NOT NULL);\n");
        migrations.Step<WaitAtGate>(20);
        migrations.Script("0.2", "030_close_ledger.sql", "INSERT INTO ledger (entry) VALUES ('last script ran');\n");
        var database = await TestDatabase.CreateAsync(postgres);
        var gate = StepGate.For(database.Name);
        var firstRunId = Deployment.NewRunId();

        var first = Deployment.RunAsync(database, migrations, "0.2", runId: firstRunId);
        try
        {
            await gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
            var holder = await database.DeploymentLockHolderAsync();
            Assert.NotNull(holder);
            Assert.Contains($"('pgdeploy lock {firstRunId}'", holder);

            var clock = Stopwatch.StartNew();
            var shortWait = Deployment.Settings with { DeploymentLockWait = TimeSpan.FromSeconds(2) };
            var refusal = await Assert.ThrowsAsync<DeploymentRefusedException>(() => Deployment.RunAsync(database, migrations, "0.2", shortWait));
            clock.Stop();

            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15));
            Assert.Contains($"Another run holds the deployment lock of database '{database.Name}': {holder}", refusal.Message);
            Assert.Contains("Waited 2 s; nothing was changed", refusal.Message);

            // A deployment that may wait long enough gets the lock once the first is done, and then finds nothing left to do.
            var patient = Deployment.RunAsync(database, migrations, "0.2", Deployment.Settings with { DeploymentLockWait = TimeSpan.FromSeconds(60) });
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            Assert.False(patient.IsCompleted);
            gate.Open();
            var firstResult = await first;
            var patientResult = await patient;

            Assert.Equal(3, firstResult.Plan.Steps.Count);
            Assert.True(patientResult.Plan.IsEmpty);
            Assert.Equal(new AppVersion(0, 2), patientResult.Plan.CurrentVersion);
        }
        finally
        {
            // Whatever failed above, the first deployment must not stay blocked: let it finish before the test ends.
            gate.Open();
            await Task.WhenAny(first);
        }

        var history = await database.HistoryAsync();
        Assert.Equal(["010_create_ledger.sql", "020_WaitAtGate.cs", "030_close_ledger.sql"], history.Select(row => row.Name));
        Assert.All(history, row => Assert.True(row.Success));
        Assert.All(history, row => Assert.Equal(firstRunId, row.RunId));
        Assert.Equal(["data step ran", "last script ran"], await database.QueryAsync<string>("SELECT entry FROM ledger ORDER BY id"));
        Assert.True(await database.DeploymentLockIsFreeAsync());
    }
}
