using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.EndToEnd.Support;

/// <summary>
/// The repository's own school migrations, whose 0.4 hashes every password in C#, run by the real build program: a launch on a
/// test database, and that database deployed to 0.3 with one school and its students ('secret-N' as password N).
/// </summary>
internal static class SchoolSample
{
    /// <param name="argon2Profile">test (cheap) or owasp (the real cost), as SCHOOL_ARGON2_PROFILE.</param>
    public static BuildLaunch Launch(TestDatabase database, string argon2Profile = "test") => new()
    {
        ConnectionString = database.ConnectionString,
        MigrationsDirectory = Path.Combine(TestPaths.RepositoryRoot, "migrations"),
        Variables = new Dictionary<string, string> { ["SCHOOL_ARGON2_PROFILE"] = argon2Profile },
    };

    public static async Task DeployAtV03Async(BuildRoot root, BuildLaunch launch, TestDatabase database, int users)
    {
        (await DeploymentScenario.RunInAsync(root, launch, "Deploy", "--version", "0.3")).AssertExitCode(0);
        await database.ExecuteAsync($"""
            INSERT INTO schools (name, email_domain) VALUES ('Hill School', 'hill.example');
            INSERT INTO users (school_id, role, email, first_name, last_name, password)
            SELECT 1, 'student', 'student' || g || '@hill.example', 'First' || g, 'Last' || g, 'secret-' || g FROM generate_series(1, {users}) AS g;
            """);
    }
}
