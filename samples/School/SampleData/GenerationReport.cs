namespace School;

public sealed record GenerationStep(string Name, long Rows, TimeSpan Elapsed);

public sealed record GenerationReport(SampleSize Size, int Seed, IReadOnlyList<GenerationStep> Steps)
{
    public TimeSpan Elapsed => Steps.Aggregate(TimeSpan.Zero, (sum, step) => sum + step.Elapsed);

    public long RowsOf(string table) => Steps.Where(step => step.Name == table).Sum(step => step.Rows);

    public override string ToString() =>
        $"Sample data, seed {Seed}, in {Elapsed.TotalSeconds:0.0} s: " +
        string.Join(", ", Steps.Select(step => step.Rows > 0 ? $"{step.Name} {step.Rows:N0} rows {step.Elapsed.TotalSeconds:0.0} s" : $"{step.Name} {step.Elapsed.TotalSeconds:0.0} s"));
}
