using System.Diagnostics;
using PgDeploy.Bench;
using PgDeploy.Bench.Figures;
using Serilog;
using Serilog.Events;

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (UsageException usage)
{
    Console.Error.WriteLine(usage.Message);
    return 2;
}

var repositoryRoot = options.RepositoryRoot ?? FindRepositoryRoot();
if (repositoryRoot is null || !Directory.Exists(Path.Combine(repositoryRoot, "migrations")))
{
    Console.Error.WriteLine("Run from inside the repository (a directory with Build.sln above it), or pass --repo.");
    return 2;
}

var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss", System.Globalization.CultureInfo.InvariantCulture);
var workRoot = Directory.CreateTempSubdirectory("pgdeploy-bench-").FullName;
var logDirectory = Path.Combine(Path.GetTempPath(), "pgdeploy-bench-logs", stamp);
Directory.CreateDirectory(logDirectory);
// The library logs as the build does to its file log; the runner's own log lines are part of what it costs.
Log.Logger = new LoggerConfiguration().MinimumLevel.Debug()
    .WriteTo.File(Path.Combine(logDirectory, "bench.log"), restrictedToMinimumLevel: LogEventLevel.Debug,
        outputTemplate: "{Timestamp:HH:mm:ss.fff} | {Level:u1} | {Message:lj}{NewLine}{Exception}")
    .CreateLogger();

var build = BuildProgram.Locate(options);
var context = new BenchContext(options, repositoryRoot, workRoot, logDirectory, build);
var clock = Stopwatch.StartNew();
BenchRun run;
int exitCode = 0;
try
{
    Console.WriteLine($"PgDeploy benchmarks: {string.Join(' ', args)}");
    Console.WriteLine($"  repository {repositoryRoot}; work {workRoot}; logs {logDirectory}");
    Console.WriteLine($"  build program: {build?.Dll ?? "not found"}");
    run = new BenchRun { Command = options.Command, Arguments = string.Join(' ', args), Machine = await DescribeMachineAsync(), Options = options };
    foreach (var line in run.Machine.Lines())
        Console.WriteLine($"  {line.Item1}: {line.Item2}");

    var figures = new (string Key, Func<Task<FigureResult>> Run)[]
    {
        ("overhead", () => new OverheadFigure(context).RunAsync()),
        ("hashing", () => new HashingFigure(context).RunAsync()),
        ("backup", () => new BackupFigure(context).RunAsync()),
        ("rollback", () => new RollbackFigure(context).RunAsync()),
        ("window", () => new WindowFigure(context).RunAsync()),
        ("rehearsal", () => new RehearsalFigure(context).RunAsync()),
        ("prerequisites", () => new PrerequisitesFigure(context).RunAsync()),
    };
    foreach (var (key, runFigure) in figures.Where(figure => options.Runs(figure.Key)))
    {
        var figureClock = Stopwatch.StartNew();
        var loadBefore = MachineInfo.LoadAverage();
        context.Progress($"figure {key}: start");
        FigureResult result;
        try
        {
            result = await runFigure();
        }
        catch (Exception exception)
        {
            Log.Error(exception, "Figure {Figure} failed", key);
            Console.Error.WriteLine($"Figure {key} failed: {exception}");
            result = new FigureResult(key, $"{key} (failed)") { Error = exception.Message };
            exitCode = 1;
        }
        result.ElapsedSeconds = figureClock.Elapsed.TotalSeconds;
        result.LoadBefore = loadBefore;
        result.LoadAfter = MachineInfo.LoadAverage();
        run.Figures.Add(result);
        context.Progress($"figure {key}: done in {Format.Duration(result.ElapsedSeconds)}");
        Console.WriteLine(ResultWriter.Markdown(new BenchRun { Command = key, Arguments = "", Machine = run.Machine, Options = options, Figures = { result } })
            .Split("## ", 3).Last().Insert(0, "## "));
    }

    run.ElapsedSeconds = clock.Elapsed.TotalSeconds;
    var (markdown, json) = ResultWriter.Write(run, options.ResultsDirectory ?? Path.Combine(repositoryRoot, "bench", "results"));
    Console.WriteLine($"Results: {markdown} and {json} ({Format.Duration(run.ElapsedSeconds)} in all)");
}
finally
{
    try
    {
        Files.DeleteTree(workRoot);
    }
    catch (Exception exception)
    {
        Console.Error.WriteLine($"Could not delete {workRoot}: {exception.Message}");
    }
    await Log.CloseAndFlushAsync();
}
return exitCode;

async Task<MachineInfo> DescribeMachineAsync()
{
    await using var cluster = await BenchCluster.StartAsync(options.Durable);
    var pgDump = await RawTool.FindAsync("pg_dump");
    var psql = await RawTool.FindAsync("psql");
    var pgDumpVersion = (await CliWrap.Buffered.BufferedCommandExtensions.ExecuteBufferedAsync(CliWrap.Cli.Wrap(pgDump.Path).WithArguments(["--version"]))).StandardOutput.Trim();
    return await MachineInfo.CollectAsync(repositoryRoot, await cluster.ServerVersionAsync(),
        $"{pgDumpVersion}; psql, pg_dump, pg_restore from {Path.GetDirectoryName(psql.Path)}", await cluster.DescribeSettingsAsync());
}

static string? FindRepositoryRoot()
{
    for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "Build.sln")))
            return directory.FullName;
    }
    return null;
}
