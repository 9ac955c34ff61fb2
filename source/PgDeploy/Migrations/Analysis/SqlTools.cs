using System.Text;
using CliWrap;
using CliWrap.Buffered;
using PgDeploy.Application;
using PgDeploy.Deployments;

namespace PgDeploy.Migrations.Analysis;

/// <summary>
/// The pinned npm tools of tools/sql (squawk, PostgreSQL's parser): build.sh installs them from the lock file, as NUKE's
/// bootstrap installs the SDK, so that the version that lints and parses is the one the repository names.
/// </summary>
public sealed class SqlTools(string directory)
{
    /// tools/sql of the repository the build program was built from, where build.sh installs them: --root may name a
    /// directory that holds only environments and migrations.
    public static SqlTools In(string repositoryRoot) => new(Path.Combine(repositoryRoot, "tools", "sql"));

    public string Directory => directory;
    public string Squawk => Path.Combine(directory, "node_modules", ".bin", "squawk");
    string StatementFactsScript => Path.Combine(directory, "statement-facts.cjs");

    /// Refuses with the fix when they are not installed: the analysis before the fence is part of the safe path, never skipped quietly.
    public void EnsureInstalled()
    {
        if (File.Exists(Squawk) && System.IO.Directory.Exists(Path.Combine(directory, "node_modules", "libpg-query")))
            return;
        throw new DeploymentException(
            $"The SQL tools that check the scripts before the fence are not installed in {directory}/node_modules. " +
            "./build.sh installs them when Node.js 18 or later and npm are on the PATH: install Node.js, then run ./build.sh again, " +
            $"or run 'npm install --no-save' in {directory} yourself.");
    }

    /// The cache lives in node_modules, so that installing other versions of the tools empties it; the key also holds the lock file
    /// and the script that makes the facts, so that a change to either misses.
    string CacheDirectory => Path.Combine(directory, "node_modules", ".cache", "pgdeploy-statement-facts");

    string ToolsFingerprint => toolsFingerprint ??= Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
        Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(directory, "package-lock.json")) + "\n" + File.ReadAllText(StatementFactsScript))));
    string? toolsFingerprint;

    public string CacheKey(string statement) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(ToolsFingerprint + "\n" + statement)));

    public string? ReadCache(string key)
    {
        var file = Path.Combine(CacheDirectory, key + ".json");
        return File.Exists(file) ? File.ReadAllText(file) : null;
    }

    /// Written whole or not at all (a rename), so that a killed run leaves no half entry for the next to read.
    public void WriteCache(string key, string json)
    {
        System.IO.Directory.CreateDirectory(CacheDirectory);
        var file = Path.Combine(CacheDirectory, key + ".json");
        var partial = $"{file}.{Environment.ProcessId}.partial";
        File.WriteAllText(partial, json);
        File.Move(partial, file, overwrite: true);
    }

    /// A tool of tools/sql, run there, without this process's connection URLs and secrets in its environment.
    public Command Command(string program) =>
        Cli.Wrap(program).WithWorkingDirectory(directory).WithEnvironmentVariables(ChildEnvironment.ForTool());

    /// Runs statement-facts.cjs: the statements as JSON on stdin, their facts as JSON on stdout.
    public async Task<string> StatementFactsAsync(string input, CancellationToken cancellationToken)
    {
        EnsureInstalled();
        try
        {
            var result = await Command("node")
                .WithArguments([StatementFactsScript])
                .WithStandardInputPipe(PipeSource.FromString(input, Encoding.UTF8))
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(Encoding.UTF8, cancellationToken);
            return result.ExitCode == 0
                ? result.StandardOutput
                : throw new DeploymentException($"PostgreSQL's parser (node {StatementFactsScript}) failed with exit code {result.ExitCode}: {result.StandardError.Trim()}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new DeploymentException("Could not start node, which runs PostgreSQL's parser over the scripts before the fence: install Node.js 18 or later and put it on the PATH.");
        }
    }
}
