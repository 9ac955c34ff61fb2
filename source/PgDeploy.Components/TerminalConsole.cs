using PgDeploy.Deployments;
using PgDeploy.Progress;
using Serilog.Events;
using Spectre.Console;
using TargetEngine;

namespace PgDeploy.Components;

/// <summary>Spectre's prompt, when a person is at the terminal; long work as a progress bar there, as log lines every few seconds elsewhere.</summary>
internal sealed class TerminalConsole(IBuild build) : IOperatorConsole, IWorkProgress
{
    static readonly LoggedProgress Lines = new();
    /// Beside a bar, the periodic lines would say the same again on the console: they go to the log file only.
    static readonly LoggedProgress FileLines = new(periodicLevel: LogEventLevel.Debug);

    public bool CanAsk => build.IsInteractive;
    public string Ask(string question) => AnsiConsole.Ask<string>($"[yellow]{Markup.Escape(question)}[/]");
    public IWorkProgress Progress => this;

    public IWorkReport Begin(LongWork work) =>
        build.StartProgressBar(work.What, work.Total, amount => WorkAmount.Format(amount, work.Unit), work.TotalIsEstimate) is { } bar
            ? new BarReport(bar, FileLines.Begin(work))
            : Lines.Begin(work);

    sealed class BarReport(ProgressBar bar, IWorkReport lines) : IWorkReport
    {
        public void Report(long done)
        {
            bar.Update(done);
            lines.Report(done);
        }

        public void Complete() => lines.Complete();

        /// The bar goes first, so that the work's last line is written below where it was.
        public void Dispose()
        {
            bar.Dispose();
            lines.Dispose();
        }
    }
}
