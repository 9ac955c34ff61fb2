using System.Runtime.Versioning;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>A safe harbor that could not be restored is refused in Prerequisites, before the application is stopped or fenced.</summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class RefusedSafeHarborTests(PostgresFixture postgres)
{
    public enum Damage
    {
        OneByteFlipped,
        Truncated,
    }

    [Theory]
    [InlineData(Damage.OneByteFlipped, "its SHA-256 is")]
    [InlineData(Damage.Truncated, "truncated")]
    public async Task A_damaged_safe_harbor_given_with_backup_file_is_refused_before_anything_changes(Damage damage, string reason)
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        var given = CopyOfTheLastSafeHarbor(scenario);
        Damaged(given, damage);
        var before = await scenario.SnapshotAsync();

        var run = await scenario.DeployAsync("0.2", "--backup-file", given);

        Assert.Contains($"The safe harbor {given} is damaged", run.Output);
        Assert.Contains(reason, run.Output);
        Assert.Contains("Do not restore it", run.Output);
        DeploymentScenario.AssertRefusedInPrerequisites(run, "given safe harbor");
        await scenario.AssertUnchangedAsync(before, run);
    }

    [Fact]
    public async Task A_pg_dump_older_than_the_server_is_refused_before_anything_changes_with_how_to_install_the_right_one()
    {
        await using var scenario = await DeploymentScenario.CreateAsync(postgres);
        await scenario.PrepareAtV01Async();
        // This machine has only PostgreSQL 15's client tools, so an old client is faked: scripts that report 14.9 and do nothing
        // else, where backup.clientToolDirectory sends the build (as if an operator had pointed it at an old installation).
        var oldClient = Directory.CreateDirectory(Path.Combine(scenario.Root.Directory, "postgresql-14-bin")).FullName;
        foreach (var tool in new[] { "pg_dump", "pg_restore" })
        {
            var script = Path.Combine(oldClient, tool);
            File.WriteAllText(script, $"""
                #!/bin/sh
                if [ "$1" = "--version" ]; then echo "{tool} (PostgreSQL) 14.9"; exit 0; fi
                echo "the fake {tool} 14 must never be asked to do real work" >&2
                exit 1
                """);
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        await scenario.ConfigureAsync(scenario.Settings with { ClientToolDirectory = oldClient });
        var before = await scenario.SnapshotAsync();

        var run = await scenario.DeployAsync("0.2");

        Assert.Contains($"pg_dump 14 ({Path.Combine(oldClient, "pg_dump")}) cannot dump a PostgreSQL 15 server", run.Output);
        Assert.Contains("apt-get install postgresql-client-15", run.Output);
        DeploymentScenario.AssertRefusedInPrerequisites(run, "client tools");
        await scenario.AssertUnchangedAsync(before, run);
    }

    /// <summary>The safe harbor Deploy 0.1 took (valid, of this database and environment, fresh), copied with its manifest to given/.</summary>
    private static string CopyOfTheLastSafeHarbor(DeploymentScenario scenario)
    {
        var harbor = scenario.Records.Journal.SafeHarbor!;
        var given = Path.Combine(Directory.CreateDirectory(Path.Combine(scenario.Root.Directory, "given")).FullName, Path.GetFileName(harbor));
        File.Copy(harbor, given);
        File.Copy(harbor + ".manifest.json", given + ".manifest.json");
        File.SetUnixFileMode(given, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return given;
    }

    private static void Damaged(string dump, Damage damage)
    {
        var bytes = File.ReadAllBytes(dump);
        if (damage == Damage.OneByteFlipped)
        {
            bytes[bytes.Length / 2] ^= 0xFF;
            File.WriteAllBytes(dump, bytes);
        }
        else
        {
            File.WriteAllBytes(dump, bytes[..(bytes.Length / 2)]);
        }
    }
}
