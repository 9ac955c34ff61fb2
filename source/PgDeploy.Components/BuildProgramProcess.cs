using System.Runtime.InteropServices;
using CliWrap;
using Serilog;

namespace PgDeploy.Components;

/// <summary>This build program started again in a process of its own, as an operator would start it: for a step that must run apart (a fleet's databases, the Demo's deployment).</summary>
public static class BuildProgramProcess
{
    /// <summary>The command, without validation of its exit code: the caller reads it.</summary>
    /// <param name="logDirectory">Where the child writes its build.log: a run beside this one keeps its own.</param>
    public static Command Command(IReadOnlyList<string> arguments, string logDirectory)
    {
        var entry = System.Reflection.Assembly.GetEntryAssembly()!.Location;
        var viaDotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet";
        Log.Information("Running: ./build.sh {Arguments}", string.Join(' ', arguments));
        return Cli.Wrap(Environment.ProcessPath!)
            .WithArguments([.. viaDotnet ? [entry] : Array.Empty<string>(), .. arguments, "--log-directory", logDirectory])
            .WithValidation(CommandResultValidation.None);
    }

    /// <summary>
    /// Runs it with its console output in <c>output.log</c> and its build.log in <paramref name="logDirectory"/>; returns its exit
    /// code. Cancelled (Ctrl-C, SIGTERM), the child is interrupted as an operator's Ctrl-C would, not killed: it rolls back what
    /// it started, and this waits for it and returns the code it ended with. On Windows that code is not known (null): where
    /// the child ended is for the caller to read.
    /// </summary>
    public static async Task<int?> RunAsync(IReadOnlyList<string> arguments, string logDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(logDirectory);
        await using var log = File.CreateText(OutputLog(logDirectory));
        var pipe = PipeTarget.ToStream(log.BaseStream);
        var command = Command(arguments, logDirectory).WithStandardOutputPipe(pipe).WithStandardErrorPipe(pipe);
        if (OperatingSystem.IsWindows())
        {
            try
            {
                return (await command.ExecuteAsync(CancellationToken.None, cancellationToken)).ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // CliWrap's graceful cancellation returns once the child has exited, but not with its exit code.
                return null;
            }
        }

        // SIGINT sent here rather than by CliWrap's graceful cancellation, which throws away the exit code the child ends with.
        var running = command.ExecuteAsync(CancellationToken.None);
        await using var interrupt = cancellationToken.Register(() => Interrupt(running.ProcessId, Sigint));
        return (await running).ExitCode;
    }

    public static string OutputLog(string logDirectory) => Path.Combine(logDirectory, "output.log");

    const int Sigint = 2;

    [DllImport("libc", EntryPoint = "kill")]
    static extern int Interrupt(int processId, int signal);
}
