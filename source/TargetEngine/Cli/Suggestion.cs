namespace TargetEngine.Cli;

internal static class Suggestion
{
    /// <param name="anyDistance">Suggests the closest candidate however far it is, instead of only near misses.</param>
    public static string DidYouMean(string input, IEnumerable<string> candidates, Func<string, string>? format = null, bool anyDistance = false) =>
        Closest(input, candidates, anyDistance ? int.MaxValue : Math.Max(2, input.Length / 3)) is { } match ? $" Did you mean {(format ?? (x => $"'{x}'"))(match)}?" : "";

    static string? Closest(string input, IEnumerable<string> candidates, int maxDistance) =>
        candidates
            .Select(x => (Candidate: x, Distance: Distance(Arguments.Normalize(input), Arguments.Normalize(x))))
            .Where(x => x.Distance <= maxDistance)
            .OrderBy(x => x.Distance)
            .Select(x => x.Candidate)
            .FirstOrDefault();

    static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
                (previous, row[j]) = (row[j], Math.Min(Math.Min(row[j], row[j - 1]) + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1)));
        }

        return row[b.Length];
    }
}
