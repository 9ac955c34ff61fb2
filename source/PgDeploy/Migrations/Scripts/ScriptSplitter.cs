namespace PgDeploy.Migrations.Scripts;

internal sealed record ScriptComment(int Line, string Text, bool BeforeFirstStatement);

internal sealed record SplitScript(IReadOnlyList<SqlStatement> Statements, IReadOnlyList<ScriptComment> LineComments, IReadOnlyList<ScriptProblem> Problems);

/// <summary>Splits a script into statements where psql would send them, reading inline COPY data the way psql does.</summary>
internal sealed class ScriptSplitter
{
    readonly string text;
    readonly SqlLexer lexer;
    readonly LineMap lines;
    readonly StatementEndTracker endTracker = new();
    readonly List<SqlStatement> statements = [];
    readonly List<ScriptComment> lineComments = [];
    readonly List<ScriptProblem> problems = [];
    int statementStart = -1;

    ScriptSplitter(string text)
    {
        this.text = text;
        // psql ignores a byte-order mark at the start of the file.
        lexer = new SqlLexer(text) { Position = text.StartsWith('\uFEFF') ? 1 : 0 };
        lines = new LineMap(text);
    }

    public static SplitScript Split(string text) => new ScriptSplitter(text).Run();

    SplitScript Run()
    {
        while (lexer.Next() is { } token)
        {
            if (token.Unterminated)
            {
                AddError(token.Start, $"unterminated {Describe(token.Kind)}: psql would send everything from here to the end of the script as one statement");
            }

            switch (token.Kind)
            {
                case SqlTokenKind.LineComment:
                    lineComments.Add(new ScriptComment(lines.LineOf(token.Start), text[token.Start..token.End], statements.Count == 0 && statementStart < 0));
                    break;
                case SqlTokenKind.BlockComment:
                    break;
                case SqlTokenKind.Backslash:
                    RejectMetaCommand(token);
                    break;
                case SqlTokenKind.Semicolon when endTracker.EndsStatement(token):
                    EndStatement(token.Start, token.End);
                    break;
                default:
                    if (statementStart < 0)
                    {
                        statementStart = token.Start;
                    }

                    endTracker.Observe(token, text);
                    break;
            }
        }

        EndStatement(text.Length, text.Length);
        return new SplitScript(statements, lineComments, problems);
    }

    void EndStatement(int end, int afterStatement)
    {
        endTracker.Reset();
        if (statementStart < 0)
        {
            return;
        }

        var statementText = text[statementStart..end].TrimEnd(' ', '\t', '\n', '\r', '\f');
        var line = lines.LineOf(statementStart);
        statementStart = -1;
        var copyData = StatementClassifier.IsCopyFromStdin(statementText) ? ReadCopyData(afterStatement) : null;
        statements.Add(new SqlStatement(statementText, line, copyData));
    }

    // Like psql, the data starts on the line after the COPY statement and ends at a line that is exactly \. or at the end of the file.
    string ReadCopyData(int afterStatement)
    {
        var statementLineEnd = lines.EndOfLine(afterStatement);
        RejectTextAfterCopy(afterStatement, statementLineEnd);
        var dataStart = Math.Min(statementLineEnd + 1, text.Length);
        for (var lineStart = dataStart; lineStart < text.Length;)
        {
            var lineEnd = lines.EndOfLine(lineStart);
            if (text.AsSpan(lineStart, lineEnd - lineStart) is @"\." or "\\.\r")
            {
                if (lineEnd < text.Length)
                {
                    lexer.Position = lineEnd + 1;
                    return text[dataStart..lineStart];
                }

                AddError(lineStart, @"the \. that ends the COPY data has no line break after it, so psql sends it as a data row and the server rejects it; end the file with a line break");
            }

            lineStart = Math.Min(lineEnd + 1, text.Length);
        }

        lexer.Position = text.Length;
        return text[dataStart..];
    }

    void RejectTextAfterCopy(int from, int lineEnd)
    {
        var rest = new SqlLexer(text[from..lineEnd]);
        while (rest.Next() is { } token)
        {
            if (!token.IsComment || token.Unterminated)
            {
                AddError(from, @"text after the semicolon of COPY ... FROM STDIN: psql reads the data from the next line and runs this text only after the data; move it below the \. line");
                return;
            }
        }
    }

    void RejectMetaCommand(SqlToken backslash)
    {
        var lineEnd = lines.EndOfLine(backslash.Start);
        var nameEnd = backslash.End;
        while (nameEnd < lineEnd && !SqlLexer.IsWhitespace(text[nameEnd]) && text[nameEnd] != '\\')
        {
            nameEnd++;
        }

        AddError(backslash.Start, MetaCommandAdvice.Explain(text[backslash.End..nameEnd]));
        // psql's meta-commands take the rest of their line as arguments; the ones that end a query (\g, \gset ...) send what precedes them.
        lexer.Position = lineEnd;
        EndStatement(backslash.Start, lineEnd);
    }

    void AddError(int position, string message) => problems.Add(new ScriptProblem(lines.LineOf(position), ProblemSeverity.Error, message));

    static string Describe(SqlTokenKind kind) => kind switch
    {
        SqlTokenKind.BlockComment => "/* comment",
        SqlTokenKind.QuotedIdentifier => "quoted identifier",
        SqlTokenKind.DollarString => "dollar-quoted string",
        _ => "quoted string",
    };
}
