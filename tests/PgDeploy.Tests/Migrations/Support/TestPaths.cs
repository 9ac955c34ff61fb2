namespace PgDeploy.Tests.Migrations.Support;

/// <summary>Where the sources are: found by walking up from the test assembly, so the tests run from any working directory.</summary>
internal static class TestPaths
{
    public static string TestProject { get; } = Ancestor(AppContext.BaseDirectory, "PgDeploy.Tests.csproj");

    public static string RepositoryRoot { get; } = Ancestor(TestProject, "Build.sln");

    /// <summary>The C# post-processing steps of the tests, laid out like a migrations folder: TestMigrations/v0.4/FillDisplayNames.cs.</summary>
    public static string TestMigrations => Path.Combine(TestProject, "TestMigrations");

    private static string Ancestor(string start, string marker)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, marker)))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No directory above {start} holds {marker}: the tests must run from a checkout of the repository.");
    }
}
