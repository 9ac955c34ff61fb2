using PgDeploy.Migrations;
using PgDeploy.Migrations.PostProcessing;

namespace PgDeploy.Tests.Migrations.Support;

/// <summary>
/// A migrations folder written by a test: v&lt;major&gt;.&lt;minor&gt;/NNN_name.sql scripts, and NNN_Name.cs steps copied from
/// TestMigrations/ (their classes are compiled into the test assembly, as the build compiles migrations/**/*.cs).
/// </summary>
internal sealed class MigrationFolder : IDisposable
{
    public MigrationFolder(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }

    public static MigrationFolder CreateTemporary() => new(System.IO.Directory.CreateTempSubdirectory("pgdeploy-migrations-").FullName);

    public string PathOf(string version, string fileName) => Path.Combine(Directory, $"v{version}", fileName);

    /// <summary>Writes (or overwrites) a script and returns its path.</summary>
    public string Script(string version, string fileName, string sql)
    {
        var path = PathOf(version, fileName);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, sql);
        return path;
    }

    /// <summary>Adds the step class <typeparamref name="TStep"/> as NNN_Name.cs in the version folder its namespace names.</summary>
    public string Step<TStep>(int order) where TStep : PostProcessStep
    {
        var type = typeof(TStep);
        var version = VersionOf(type);
        var source = Path.Combine(TestPaths.TestMigrations, version.FolderName, $"{type.Name}.cs");
        return Script(version.ToString(), $"{order:000}_{type.Name}.cs", File.ReadAllText(source));
    }

    public void Delete(string version, string fileName) => File.Delete(PathOf(version, fileName));

    public MigrationCatalog Catalog() => MigrationCatalog.Load(Directory, typeof(MigrationFolder).Assembly.GetTypes());

    /// <summary>The checksum the catalog must record for a file: the sha256 of its content.</summary>
    public string ChecksumOf(string version, string fileName) => Checksum.Of(File.ReadAllText(PathOf(version, fileName)));

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private static AppVersion VersionOf(Type stepType)
    {
        var version = AppVersion.Parse(stepType.Namespace!["Migrations.V".Length..].Replace('_', '.'));
        if (MigrationCatalog.StepNamespace(version) != stepType.Namespace)
        {
            throw new InvalidOperationException($"{stepType.FullName} is not in a Migrations.V<major>_<minor> namespace.");
        }

        return version;
    }
}
