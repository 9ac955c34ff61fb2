namespace PgDeploy.Safety;

/// <summary>Blanks a password out of text from a tool or the server before it reaches a log line or an exception, in case one ever echoes it.</summary>
static class PasswordRedaction
{
    public static string Redact(string text, string? password) =>
        string.IsNullOrEmpty(password) ? text : text.Replace(password, "********", StringComparison.Ordinal);
}
