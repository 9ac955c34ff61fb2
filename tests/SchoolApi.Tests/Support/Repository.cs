using System.Reflection;

namespace SchoolApi.Tests.Support;

static class Repository
{
    /// The repository root, recorded by the project file at build time.
    public static string Root { get; } = typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "RepositoryRoot").Value!;

    public static string Migrations => Path.Combine(Root, "migrations");

    public static string ControlScript => Path.Combine(Root, "samples", "SchoolApi", "school-api.sh");

    /// The API as this project's build copied it next to the tests.
    public static string ApiDll => Path.Combine(AppContext.BaseDirectory, "SchoolApi.dll");
}
