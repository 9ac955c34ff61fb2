using PgDeploy.Migrations;

namespace School.Tests;

public sealed class MigrationsFolderTests
{
    [Fact]
    public void The_folder_loads_without_a_problem() =>
        Assert.Empty(SchoolDatabase.Catalog.Problems.Select(problem => problem.ToString()));

    [Fact]
    public void Hashing_starts_PostProcess_and_the_plaintext_is_dropped_after_it()
    {
        var plan = UpgradePlanner.Plan(SchoolDatabase.Catalog, [], SchoolDatabase.V04);

        var v04 = plan.Steps.Where(planned => planned.Step.Version == SchoolDatabase.V04).ToList();
        Assert.Equal(["100_HashPasswords.cs", "110_drop_plaintext_passwords.sql"],
            v04.Where(planned => planned.Phase == UpgradePhase.PostProcess).Select(planned => planned.Step.FileName));
        Assert.DoesNotContain(plan.Steps, planned => planned.OutsideTransaction);
    }
}
