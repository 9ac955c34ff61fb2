using System.Xml.Linq;
using CliWrap;
using CliWrap.Buffered;
using PgDeploy;
using Serilog;
using TargetEngine;

/// Packs the libraries and the dotnet new template from this repository. The template shares files with the repository
/// (the bootstrap scripts, global.json, the SQL tools' lock, the deploy workflow): they are staged beside its content, not copied into it.
sealed class PackageBuilder(AbsolutePath root, AbsolutePath output, string? version)
{
    static readonly string[] Libraries = ["source/TargetEngine/TargetEngine.csproj", "source/PgDeploy/PgDeploy.csproj", "source/PgDeploy.Components/PgDeploy.Components.csproj"];
    static readonly string[] SharedFiles = ["build.sh", "build.ps1", "build.cmd", "global.json", "tools/sql/package.json", "tools/sql/package-lock.json", "tools/sql/statement-facts.cjs", ".github/workflows/deploy.yml"];
    const string VersionToken = "PGDEPLOY_VERSION";

    public string Version => version ?? XDocument.Load(root / "Directory.Build.props").Descendants("VersionPrefix").Single().Value;

    public async Task<string> PackAsync(AbsolutePath staging, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(output);
        foreach (var library in Libraries)
            await PackAsync(root / library, [], cancellationToken);

        var content = Stage(staging);
        await PackAsync(root / "templates" / "PgDeploy.Templates.csproj", [$"-p:TemplateContent={content}"], cancellationToken);
        return $"{Libraries.Length + 1} packages {Version} in {output}";
    }

    /// The template's content as dotnet new gets it: the repository's shared files added, the packages' version written in.
    AbsolutePath Stage(AbsolutePath staging)
    {
        if (Directory.Exists(staging))
            Directory.Delete(staging, recursive: true);
        var content = staging / "content";
        CopyDirectory(root / "templates" / "content", content);
        var scaffold = content / "pgdeploy";
        foreach (var file in SharedFiles)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(scaffold / file)!);
            File.Copy(root / file, scaffold / file);
        }

        var project = scaffold / "build" / "_build.csproj";
        File.WriteAllText(project, File.ReadAllText(project).Replace(VersionToken, Version));
        return content;
    }

    async Task PackAsync(AbsolutePath project, string[] properties, CancellationToken cancellationToken)
    {
        Log.Information("Packing {Project} {Version}", Path.GetFileNameWithoutExtension(project), Version);
        var result = await Cli.Wrap("dotnet")
            .WithArguments(["pack", project, "-c", "Release", "-o", output, $"-p:Version={Version}", "-nologo", "-v", "q", "-nodeReuse:false", .. properties])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cancellationToken);
        if (!result.IsSuccess)
            throw new DeploymentException($"dotnet pack {project} failed with exit code {result.ExitCode}: {result.StandardOutput}{result.StandardError}".Trim());
    }

    static void CopyDirectory(string source, string target)
    {
        foreach (var directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(directory.Replace(source, target));
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(source, target));
    }
}
