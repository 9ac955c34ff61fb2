using System.Text;

namespace PgDeploy.Safety.Verification;

/// Reads identifiers as PostgreSQL does: an unquoted one is folded to lower case, a double-quoted one
/// is kept as written ("" standing for a quote), so that names in the verify files match the catalog.
/// Blanks outside quotes are dropped: no unquoted name holds one.
static class SqlIdentifiers
{
    /// Splits on <paramref name="separator"/> outside double quotes, e.g. `app."Order Items"` on '.'.
    public static IReadOnlyList<string> Split(string text, char separator)
    {
        var parts = new List<string>();
        var part = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"' && quoted && i + 1 < text.Length && text[i + 1] == '"')
            {
                part.Append('"');
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == separator && !quoted)
            {
                parts.Add(Finish(part, text));
            }
            else if (quoted)
            {
                part.Append(c);
            }
            else if (!char.IsWhiteSpace(c))
            {
                part.Append(char.ToLowerInvariant(c));
            }
        }
        if (quoted)
            throw new FormatException($"'{text}' has an unclosed double quote");
        parts.Add(Finish(part, text));
        return parts;
    }

    static string Finish(StringBuilder part, string text)
    {
        var name = part.ToString();
        part.Clear();
        return name.Length > 0 ? name : throw new FormatException($"'{text}' has an empty name in it");
    }
}
