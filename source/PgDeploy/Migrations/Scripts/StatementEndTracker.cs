namespace PgDeploy.Migrations.Scripts;

/// <summary>
/// psql's rule for whether a semicolon ends the statement: not inside parentheses, and not inside the
/// BEGIN ... END body of a statement that starts CREATE [OR REPLACE] {FUNCTION|PROCEDURE}.
/// This reproduces psqlscan.l's heuristic exactly, quirks included, so that scripts split where psql splits them.
/// </summary>
internal sealed class StatementEndTracker
{
    readonly char[] leadingIdentifiers = new char[4];
    int parenDepth;
    int beginDepth;
    int identifierCount;

    public bool EndsStatement(SqlToken token) => token.Kind == SqlTokenKind.Semicolon && parenDepth == 0 && beginDepth == 0;

    public void Observe(SqlToken token, string text)
    {
        switch (token.Kind)
        {
            case SqlTokenKind.OpenParen:
                parenDepth++;
                break;
            case SqlTokenKind.CloseParen when parenDepth > 0:
                parenDepth--;
                break;
            case SqlTokenKind.Word:
                ObserveIdentifier(text.AsSpan(token.Start, token.End - token.Start));
                break;
        }
    }

    public void Reset()
    {
        parenDepth = 0;
        beginDepth = 0;
        identifierCount = 0;
    }

    void ObserveIdentifier(ReadOnlySpan<char> identifier)
    {
        if (identifierCount == 0)
        {
            Array.Clear(leadingIdentifiers);
        }

        if (identifierCount < leadingIdentifiers.Length && IsAnyOf(identifier, "create", "function", "procedure", "or", "replace"))
        {
            leadingIdentifiers[identifierCount] = char.ToLowerInvariant(identifier[0]);
        }

        identifierCount++;
        if (!DefinesRoutine || parenDepth > 0)
        {
            return;
        }

        if (IsAnyOf(identifier, "begin"))
        {
            beginDepth++;
        }
        else if (IsAnyOf(identifier, "case") && beginDepth >= 1)
        {
            beginDepth++;
        }
        else if (IsAnyOf(identifier, "end") && beginDepth > 0)
        {
            beginDepth--;
        }
    }

    bool DefinesRoutine => leadingIdentifiers is ['c', 'f' or 'p', ..] or ['c', 'o', 'r', 'f' or 'p'];

    static bool IsAnyOf(ReadOnlySpan<char> identifier, params ReadOnlySpan<string> keywords)
    {
        foreach (var keyword in keywords)
        {
            if (identifier.Equals(keyword, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
