namespace PgDeploy.Migrations.Scripts;

/// <summary>
/// A statement's tokens without its comments: unquoted words upper-cased, everything else as written
/// (so "VACUUM" in double quotes or 'VACUUM' in a string never equals the keyword VACUUM).
/// </summary>
internal sealed class StatementTokens
{
    readonly List<(string Text, int Depth)> tokens = [];

    public StatementTokens(string statement)
    {
        var lexer = new SqlLexer(statement);
        var depth = 0;
        var leadingWords = new List<string>();
        while (lexer.Next() is { } token)
        {
            if (token.IsComment)
            {
                continue;
            }

            var isWord = token.Kind == SqlTokenKind.Word;
            var text = isWord ? statement[token.Start..token.End].ToUpperInvariant() : statement[token.Start..token.End];
            if (isWord && leadingWords.Count == tokens.Count)
            {
                leadingWords.Add(text);
            }

            depth = token.Kind == SqlTokenKind.CloseParen ? Math.Max(0, depth - 1) : depth;
            tokens.Add((text, depth));
            depth = token.Kind == SqlTokenKind.OpenParen ? depth + 1 : depth;
        }

        LeadingWords = leadingWords;
        TopLevel = tokens.Where(token => token.Depth == 0).Select(token => token.Text).ToArray();
    }

    /// <summary>The words before the first token that is not a word.</summary>
    public IReadOnlyList<string> LeadingWords { get; }

    /// <summary>The tokens outside parentheses; the parentheses themselves are included.</summary>
    public string[] TopLevel { get; }

    public bool StartsWith(params ReadOnlySpan<string> words) => TopLevel.AsSpan().StartsWith(words);

    public bool Contains(params ReadOnlySpan<string> words) => TopLevel.AsSpan().IndexOf(words) >= 0;

    public bool ContainsAtAnyDepth(string word) => tokens.Exists(token => token.Text == word);

    /// <summary>Whether an option such as CONNECT is set to false, at any depth: "connect = false", "connect off", "connect 'false'".</summary>
    public bool SetsOptionOff(string option)
    {
        var index = tokens.FindIndex(token => token.Text == option);
        var value = tokens.Skip(index + 1).Select(token => token.Text).SkipWhile(text => text == "=").FirstOrDefault();
        return index >= 0 && value?.Trim('\'').ToUpperInvariant() is "FALSE" or "OFF" or "0";
    }
}
