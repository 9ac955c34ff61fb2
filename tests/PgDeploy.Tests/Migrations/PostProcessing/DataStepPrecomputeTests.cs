using PgDeploy.Migrations;
using PgDeploy.Migrations.PostProcessing;
using PgDeploy.Progress;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Migrations.PostProcessing;

/// <summary>
/// Before the fence a data step runs on the schema before the upgrade, while the application writes: its own statements
/// are the upgrade's and do not run, and a step that cannot run there at all costs the window its rows, never the deployment.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DataStepPrecomputeTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_steps_own_statements_do_not_run_before_the_fence_and_its_transform_is_precomputed_all_the_same()
    {
        var database = await ItemsAsync();
        var before = await database.DumpAsync();

        var coverage = await RunAsync<WritesThenLabels>(database, StepMode.Precompute);

        var labels = Assert.Single(coverage);
        Assert.Equal((50L, 50L, 100.0), (labels.Rows, labels.Stored, labels.Percent!.Value));
        Assert.Null(labels.Problem);
        // Only the tool's side table was written: the step's UPDATE is for inside the window.
        DumpAssert.Identical(before, await database.DumpAsync("--exclude-schema=pgdeploy"));
        Assert.Equal(50, await database.ScalarAsync<long>($"SELECT count(*) FROM pgdeploy.{await SideTableAsync(database)}"));
    }

    [Fact]
    public async Task A_step_whose_own_query_needs_the_new_schema_is_reported_not_precomputed_by_Survey_and_Precompute_alike()
    {
        var database = await ItemsAsync();

        foreach (var mode in new[] { StepMode.Survey, StepMode.Precompute })
        {
            var coverage = await RunAsync<QueriesTheNewSchema>(database, mode);

            var step = Assert.Single(coverage);
            Assert.Null(step.Percent);
            Assert.Contains("the step failed before the fence", step.Problem);
            Assert.Contains("column \"label\" does not exist", step.Problem);
            Assert.EndsWith("all its rows are computed inside the window", step.Describe());
        }

        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgdeploy'"));
    }

    [Fact]
    public async Task A_transform_without_a_source_before_the_upgrade_has_no_percentage_and_does_not_pass_for_free()
    {
        var database = await ItemsAsync();

        var labels = Assert.Single(await RunAsync<LabelsOnlyAfter>(database, StepMode.Survey));

        Assert.False(labels.Precomputable);
        Assert.Null(labels.Percent);
        Assert.Equal("Label items (v0.2/010_Labels.cs): not precomputable (it declares no SourceBeforeUpgrade): all its rows are computed inside the window", labels.Describe());
    }

    async Task<TestDatabase> ItemsAsync()
    {
        var database = await TestDatabase.CreateAsync(postgres);
        await database.ExecuteAsync("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 50) AS g");
        return database;
    }

    static Task<string> SideTableAsync(TestDatabase database) =>
        database.ScalarAsync<string>("SELECT tablename FROM pg_tables WHERE schemaname = 'pgdeploy' AND tablename LIKE 'precomputed\\_%'");

    /// The step as the second version's only step, on a database at the first.
    static Task<IReadOnlyList<PrecomputeCoverage>> RunAsync<TStep>(TestDatabase database, StepMode mode) where TStep : PostProcessStep
    {
        var step = new CSharpStep(new AppVersion(0, 2), 10, "010_Labels.cs", "checksum-1", typeof(TStep));
        var plan = new UpgradePlan(new AppVersion(0, 1), new AppVersion(0, 2), [new PlannedStep(step, UpgradePhase.PostProcess, 0, false)]);
        return DataStepPrecompute.RunAsync(database.ConnectionString, plan, mode, new MigrationSettings(), new LoggedProgress(), CancellationToken.None);
    }

    static BatchTransform<Item, (int, string)> Labels(string? sourceBefore) => new()
    {
        Name = "Label items",
        Source = "SELECT id, name FROM items",
        SourceBeforeUpgrade = sourceBefore,
        Compute = item => (item.Id, $"[{item.Name}]"),
        Table = "items",
        KeyColumn = "id",
        Columns = ["label"],
    };

    sealed record Item(int Id, string Name);

    sealed class WritesThenLabels : PostProcessStep
    {
        public override string Description => "Upper-cases the names, then labels the items";

        public override async Task ExecuteAsync(StepContext context)
        {
            await context.ExecuteAsync("UPDATE items SET name = upper(name)");
            await context.TransformAsync(Labels("SELECT id, name FROM items"));
        }
    }

    sealed class QueriesTheNewSchema : PostProcessStep
    {
        public override string Description => "Counts the unlabelled items, then labels them";

        public override async Task ExecuteAsync(StepContext context)
        {
            context.Log.Information("{Count} items to label", await context.QuerySingleAsync<long>("SELECT count(*) FROM items WHERE label IS NULL"));
            await context.TransformAsync(Labels("SELECT id, name FROM items"));
        }
    }

    sealed class LabelsOnlyAfter : PostProcessStep
    {
        public override string Description => "Labels the items, from the new schema only";

        public override async Task ExecuteAsync(StepContext context) => await context.TransformAsync(Labels(null));
    }
}
