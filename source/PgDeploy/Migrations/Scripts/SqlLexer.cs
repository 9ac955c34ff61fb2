namespace PgDeploy.Migrations.Scripts;

internal enum SqlTokenKind
{
    Word,
    QuotedIdentifier,
    String,
    DollarString,
    LineComment,
    BlockComment,
    OpenParen,
    CloseParen,
    Semicolon,
    Backslash,
    Other,
}

internal readonly record struct SqlToken(SqlTokenKind Kind, int Start, int End, bool Unterminated)
{
    public bool IsComment => Kind is SqlTokenKind.LineComment or SqlTokenKind.BlockComment;
}

/// <summary>
/// Cuts SQL text into the tokens that psql's lexer (src/fe_utils/psqlscan.l) tells apart, with
/// standard_conforming_strings on. Tokens psql does not distinguish (operators, numbers) come out as <see cref="SqlTokenKind.Other"/>.
/// </summary>
internal sealed class SqlLexer(string text)
{
    public int Position { get; set; }

    public SqlToken? Next()
    {
        while (Position < text.Length && IsWhitespace(text[Position]))
        {
            Position++;
        }

        if (Position >= text.Length)
        {
            return null;
        }

        var start = Position;
        var (kind, terminated) = Scan(text[start], Peek(1));
        return new SqlToken(kind, start, Position, !terminated);
    }

    public static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f';

    (SqlTokenKind Kind, bool Terminated) Scan(char c, char next)
    {
        switch (c)
        {
            case '-' when next == '-':
                return (SqlTokenKind.LineComment, SkipLineComment());
            case '/' when next == '*':
                return (SqlTokenKind.BlockComment, SkipBlockComment());
            case '\'':
                return (SqlTokenKind.String, SkipQuoted(1, '\'', backslashEscapes: false));
            case '"':
                return (SqlTokenKind.QuotedIdentifier, SkipQuoted(1, '"', backslashEscapes: false));
            case 'e' or 'E' when next == '\'':
                return (SqlTokenKind.String, SkipQuoted(2, '\'', backslashEscapes: true));
            case 'b' or 'B' or 'x' or 'X' or 'n' or 'N' when next == '\'':
                return (SqlTokenKind.String, SkipQuoted(2, '\'', backslashEscapes: false));
            case 'u' or 'U' when next == '&' && Peek(2) == '\'':
                return (SqlTokenKind.String, SkipQuoted(3, '\'', backslashEscapes: false));
            case 'u' or 'U' when next == '&' && Peek(2) == '"':
                return (SqlTokenKind.QuotedIdentifier, SkipQuoted(3, '"', backslashEscapes: false));
            case '$':
                return ScanDollar();
        }

        Position++;
        if (IsIdentifierStart(c))
        {
            SkipIdentifierRest();
            return (SqlTokenKind.Word, true);
        }

        if (char.IsAsciiDigit(c))
        {
            SkipNumberRest();
        }

        return (c switch
        {
            '(' => SqlTokenKind.OpenParen,
            ')' => SqlTokenKind.CloseParen,
            ';' => SqlTokenKind.Semicolon,
            '\\' => SqlTokenKind.Backslash,
            _ => SqlTokenKind.Other,
        }, true);
    }

    char Peek(int offset) => Position + offset < text.Length ? text[Position + offset] : '\0';

    bool SkipLineComment()
    {
        while (Position < text.Length && text[Position] is not ('\n' or '\r'))
        {
            Position++;
        }

        return true;
    }

    bool SkipBlockComment()
    {
        Position += 2;
        var depth = 1;
        while (Position < text.Length)
        {
            if (text[Position] == '/' && Peek(1) == '*')
            {
                depth++;
                Position += 2;
            }
            else if (text[Position] == '*' && Peek(1) == '/')
            {
                Position += 2;
                if (--depth == 0)
                {
                    return true;
                }
            }
            else
            {
                Position++;
            }
        }

        return false;
    }

    bool SkipQuoted(int openerLength, char quote, bool backslashEscapes)
    {
        Position += openerLength;
        while (Position < text.Length)
        {
            var c = text[Position];
            if (backslashEscapes && c == '\\')
            {
                Position = Math.Min(Position + 2, text.Length);
            }
            else if (c == quote && Peek(1) == quote)
            {
                Position += 2;
            }
            else
            {
                Position++;
                if (c == quote)
                {
                    return true;
                }
            }
        }

        return false;
    }

    (SqlTokenKind, bool) ScanDollar()
    {
        var tagEnd = Position + 1;
        if (tagEnd < text.Length && IsIdentifierStart(text[tagEnd]))
        {
            do
            {
                tagEnd++;
            }
            while (tagEnd < text.Length && (IsIdentifierStart(text[tagEnd]) || char.IsAsciiDigit(text[tagEnd])));
        }

        if (tagEnd < text.Length && text[tagEnd] == '$')
        {
            var delimiter = text[Position..(tagEnd + 1)];
            var closing = text.IndexOf(delimiter, tagEnd + 1, StringComparison.Ordinal);
            Position = closing < 0 ? text.Length : closing + delimiter.Length;
            return (SqlTokenKind.DollarString, closing >= 0);
        }

        // Not a quote: a lone $, or a parameter such as $1 (tags cannot start with a digit).
        Position++;
        if (char.IsAsciiDigit(Peek(0)))
        {
            SkipNumberRest();
        }

        return (SqlTokenKind.Other, true);
    }

    void SkipIdentifierRest()
    {
        while (Position < text.Length && (IsIdentifierStart(text[Position]) || char.IsAsciiDigit(text[Position]) || text[Position] == '$'))
        {
            Position++;
        }
    }

    // A number swallows a directly following identifier (psql's integer_junk), so "1a$$" is one token, not a dollar quote.
    void SkipNumberRest()
    {
        while (Position < text.Length && (char.IsAsciiDigit(text[Position]) || text[Position] is '_' or '.'))
        {
            Position++;
        }

        if (Position < text.Length && IsIdentifierStart(text[Position]))
        {
            SkipIdentifierRest();
        }
    }

    static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_' || c >= '\u0080';
}
