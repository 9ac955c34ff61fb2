namespace PgDeploy.Safety;

/// <summary>
/// String literals for commands that cannot take parameters (ALTER DATABASE … SET, COMMENT ON). The E'' form escapes
/// backslashes itself, so the literal means the same whatever standard_conforming_strings is.
/// </summary>
static class SqlLiteral
{
    public static string Quote(string value) => $"E'{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal)}'";
}
