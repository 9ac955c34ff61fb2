namespace PgDeploy.Tests.Migrations.Support;

internal static class DumpAssert
{
    /// <summary>The dumps are identical; on failure the message lists only the lines that differ, not two whole dumps.</summary>
    public static void Identical(string expected, string actual, string what = "dump")
    {
        if (expected == actual)
        {
            return;
        }

        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var missing = expectedLines.Except(actualLines).Take(40).Select(line => $"  - {line}");
        var added = actualLines.Except(expectedLines).Take(40).Select(line => $"  + {line}");
        Assert.Fail($"The {what}s differ (- expected only, + actual only; a line that only moved is not listed):{Environment.NewLine}" +
                    string.Join(Environment.NewLine, missing.Concat(added)));
    }
}
