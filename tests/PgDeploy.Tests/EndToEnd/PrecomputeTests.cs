using System.Runtime.Versioning;
using PgDeploy.Deployments;
using PgDeploy.Migrations;
using PgDeploy.Tests.EndToEnd.Support;
using PgDeploy.Tests.Fixtures;
using PgDeploy.Tests.Migrations.Support;
using School;

namespace PgDeploy.Tests.EndToEnd;

/// <summary>
/// Issue 9 §1 on the repository's own school migrations, whose 0.4 hashes every password in C#: Precompute hashes them
/// before the fence, while the application could still change them, and the window computes only what changed since.
/// </summary>
[UnsupportedOSPlatform("windows")]
[Collection(PostgresCollection.Name)]
public sealed class PrecomputeTests(PostgresFixture postgres)
{
    const int Users = 400;
    const string StoredResults = "SELECT key, result[1] FROM {0}";

    [Fact]
    public async Task After_Precompute_the_window_hashes_exactly_the_passwords_changed_and_the_users_added_since_and_everyone_logs_in()
    {
        var (root, database, launch) = await AtV03Async();
        using var _ = root;
        var before = await Prerequisites(root, launch);
        Assert.Contains($"Hash passwords (v0.4/100_HashPasswords.cs): 0.00 % precomputed, {Users:N0} rows to compute inside the window", before.Output);

        var precompute = await DeploymentScenario.RunInAsync(root, launch, "Precompute", "--version", "0.4");
        precompute.AssertExitCode(0);
        Assert.Contains("Hash passwords: 100.00 % precomputed", precompute.Output);
        var side = Assert.Single(await SideTablesAsync(database));
        var stored = (await database.QueryAsync<(int Key, string Hash)>(string.Format(StoredResults, side))).ToDictionary(row => row.Key, row => row.Hash);
        Assert.Equal(Users, stored.Count);
        // The side table holds what the final column will hold, and nobody but its owner may read it.
        Assert.All(stored.Values, hash => Assert.StartsWith("$argon2id$", hash));
        Assert.Equal(0, await database.ScalarAsync<long>(
            $"SELECT count(*) FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) acl WHERE c.oid = '{side}'::regclass AND acl.grantee <> c.relowner"));
        var covered = await Prerequisites(root, launch);
        Assert.Contains("Hash passwords (v0.4/100_HashPasswords.cs): 100.00 % precomputed, 0 rows to compute inside the window", covered.Output);

        // The application goes on between Precompute and the window: it changes passwords, adds users and deletes one.
        await database.ExecuteAsync("""
            UPDATE users SET password = 'changed-' || id WHERE id <= 5;
            UPDATE users SET last_name = 'Renamed' WHERE id = 6;
            DELETE FROM users WHERE id = 10;
            INSERT INTO users (school_id, role, email, first_name, last_name, password)
            SELECT 1, 'student', 'late' || g || '@hill.example', 'Late' || g, 'Comer' || g, 'new-' || g FROM generate_series(1, 3) AS g;
            """);
        var passwords = (await database.QueryAsync<(int Id, string Password)>("SELECT id, password FROM users")).ToDictionary(row => row.Id, row => row.Password);
        // What a Precompute of an older plan left: the commit takes it too.
        await database.ExecuteAsync("CREATE TABLE pgdeploy.precomputed_0ld0ld0ld0ld0ld0 (key int PRIMARY KEY, digest bytea, result text[])");

        // Precompute ran earlier (a CI stage, hours ahead): this Deploy does not catch up before the fence.
        var deploy = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.4", "--skip", "Precompute");

        deploy.AssertExitCode(0);
        // Skipping Precompute does not skip Prerequisites, which says what the window will compute.
        Assert.Contains("ok    precomputed: Hash passwords (v0.4/100_HashPasswords.cs): 98.01 % precomputed, 8 rows to compute inside the window", deploy.Output);
        Assert.Contains($"Hash passwords: {Users - 5 - 1:N0} rows precomputed before the fence, 8 computed inside it", deploy.Output);
        var hashes = (await database.QueryAsync<(int LegacyId, string Hash)>("SELECT legacy_id, password_hash FROM users")).ToDictionary(row => row.LegacyId, row => row.Hash);
        Assert.Equal(passwords.Keys.Order(), hashes.Keys.Order());
        var recomputed = hashes.Where(user => !stored.TryGetValue(user.Key, out var hash) || hash != user.Value).Select(user => user.Key).Order().ToList();
        Assert.Equal([1, 2, 3, 4, 5, .. passwords.Keys.Where(id => id > Users).Order()], recomputed);
        Assert.All(hashes, user => Assert.True(PasswordHasher.Verify(user.Value, passwords[user.Key]), $"user {user.Key} cannot log in"));
        Assert.Empty(await SideTablesAsync(database));
    }

    [Fact]
    public async Task Precompute_run_again_recomputes_only_what_changed_and_a_rolled_back_deployment_drops_what_it_stored()
    {
        var (root, database, launch) = await AtV03Async();
        using var _ = root;
        (await DeploymentScenario.RunInAsync(root, launch, "Precompute", "--version", "0.4")).AssertExitCode(0);
        await database.ExecuteAsync("UPDATE users SET password = 'changed-' || id WHERE id <= 7");

        var again = await DeploymentScenario.RunInAsync(root, launch, "Precompute", "--version", "0.4");

        again.AssertExitCode(0);
        Assert.Contains("Hash passwords: 7 stored results are of rows changed or deleted since; they are computed again", again.Output);
        Assert.Contains("Hash passwords: 100.00 % precomputed", again.Output);

        var beforeDeploy = await database.DumpAsync("--exclude-table=pgdeploy.precomputed_*");
        Assert.Single(await SideTablesAsync(database));

        // Deploy catches up before the fence (nothing changed since), the window computes nothing, and the failure's rollback drops the side table.
        var failed = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.4", "--inject-failure", "Verify");
        failed.AssertExitCode(1);
        Assert.Contains($"Hash passwords: {Users:N0} rows precomputed before the fence, 0 computed inside it", failed.Output);
        Assert.Equal(DeploymentState.RolledBack, new DeploymentRecords(root.Directory, database.Name).Journal.State);
        Assert.Empty(await SideTablesAsync(database));
        DumpAssert.Identical(beforeDeploy, await database.DumpAsync());
    }

    [Fact]
    public async Task An_environment_with_a_minimum_refuses_to_fence_when_the_window_would_compute_what_Precompute_could_have()
    {
        var (root, database, launch) = await AtV03Async();
        using var _ = root;
        root.WriteEnvironment("""{ "production": false, "precompute": { "minimumCoverage": 99.5 } }""");
        var untouched = await database.DumpAsync();

        var skipped = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.4", "--skip", "Precompute");

        skipped.AssertExitCode(2);
        Assert.Contains($"Hash passwords (v0.4/100_HashPasswords.cs) is 0.00 % precomputed, below the 99.5 % that 'ci' requires (precompute.minimumCoverage): {Users:N0} rows would be computed inside the window", skipped.Output);
        Assert.Contains("Run ./build.sh Precompute --version 0.4 --target-env ci", skipped.Output);
        DumpAssert.Identical(untouched, await database.DumpAsync());
        Assert.Equal(new AppVersion(0, 3), await database.CurrentVersionAsync());

        var deploy = await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.4");
        deploy.AssertExitCode(0);
        Assert.Equal(new AppVersion(0, 4), await database.CurrentVersionAsync());
    }

    /// <summary>At the real Argon2 cost, each batch of 1,000 passwords is committed when hashed: a kill loses only the batch it hit.</summary>
    [Fact]
    public async Task A_Precompute_killed_between_batches_is_resumed_by_the_next_without_hashing_the_stored_rows_again()
    {
        const int users = 1_050;
        var (root, database, _) = await AtV03Async(users);
        using var _ = root;
        var owasp = SchoolSample.Launch(database, "owasp");

        using (var build = await BuildProgram.StartAsync(root, owasp, "Precompute", "--version", "0.4"))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
            while (await StoredCountAsync(database) < 1_000)
            {
                Assert.False(build.HasExited, build.Output);
                Assert.True(DateTime.UtcNow < deadline, $"the first batch was not stored in time:{Environment.NewLine}{build.Output}");
                await Task.Delay(200);
            }
            await build.KillAsync();
        }
        Assert.Equal(1_000, await StoredCountAsync(database));

        var resumed = await DeploymentScenario.RunInAsync(root, owasp, "Precompute", "--version", "0.4");

        resumed.AssertExitCode(0);
        Assert.Contains("Hash passwords: 1,000 rows stored by an earlier run are still current; 50 to compute", resumed.Output);
        Assert.Contains("Hash passwords: 100.00 % precomputed", resumed.Output);
        Assert.Equal(users, await StoredCountAsync(database));
    }

    /// <summary>Two versions at once: the v0.3 schema that 0.4's hashing reads before the upgrade does not exist yet.</summary>
    [Fact]
    public async Task On_an_empty_database_0_4s_hashing_is_not_precomputable_Precompute_says_why_and_a_minimum_does_not_hold_up_its_fence()
    {
        using var root = new BuildRoot();
        var database = await TestDatabase.CreateAsync(postgres);
        var launch = SchoolSample.Launch(database);

        var precompute = await DeploymentScenario.RunInAsync(root, launch, "Precompute", "--version", "0.4");

        precompute.AssertExitCode(0);
        Assert.Contains("ok    precomputed: Hash passwords (v0.4/100_HashPasswords.cs): not precomputed: 0.3 is pending too", precompute.Output);
        Assert.Empty(await SideTablesAsync(database));
        Assert.Null(await database.CurrentVersionAsync());

        // With a minimum: an empty database has no rows to compute, and is fenced.
        root.WriteEnvironment("""{ "production": false, "precompute": { "minimumCoverage": 99.5 } }""");
        var fenced = await DeploymentScenario.RunInAsync(root, launch, "MaintenanceOn", "--version", "0.4");
        fenced.AssertExitCode(0);
        Assert.DoesNotContain("precompute.minimumCoverage", fenced.Output);
        (await DeploymentScenario.RunInAsync(root, launch, "MaintenanceOff")).AssertExitCode(0);
    }

    static async Task<long> StoredCountAsync(TestDatabase database) =>
        await SideTablesAsync(database) is [var table] ? await database.ScalarAsync<long>($"SELECT count(*) FROM {table}") : 0;

    async Task<(BuildRoot Root, TestDatabase Database, BuildLaunch Launch)> AtV03Async(int users = Users)
    {
        var root = new BuildRoot();
        var database = await TestDatabase.CreateAsync(postgres);
        var launch = SchoolSample.Launch(database);
        await SchoolSample.DeployAtV03Async(root, launch, database, users);
        return (root, database, launch);
    }

    static async Task<BuildRun> Prerequisites(BuildRoot root, BuildLaunch launch)
    {
        var run = await DeploymentScenario.RunInAsync(root, launch, "Prerequisites", "--version", "0.4");
        run.AssertExitCode(0);
        return run;
    }

    static Task<IReadOnlyList<string>> SideTablesAsync(TestDatabase database) =>
        database.QueryAsync<string>("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'pgdeploy' AND tablename LIKE 'precomputed\\_%'");
}
