namespace PgDeploy.Migrations.Scripts;

/// <summary>Recognises statements by their keywords: COPY FROM STDIN, transaction control, and what cannot run inside the runner's transaction.</summary>
internal static class StatementClassifier
{
    const string OwnScriptFix = "put it in its own script whose first lines contain `-- deploy:no-transaction`";
    const string TransactionControlFix =
        "remove it: the runner wraps the script in its transaction; use -- deploy:no-transaction for work that must commit on its own";

    static readonly HashSet<string> TransactionCommands = ["BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE"];

    static readonly HashSet<string> ObjectTypes =
    [
        "TABLE", "INDEX", "VIEW", "FUNCTION", "PROCEDURE", "ROUTINE", "AGGREGATE", "TRIGGER", "SEQUENCE", "SCHEMA", "TYPE",
        "DOMAIN", "EXTENSION", "ROLE", "USER", "GROUP", "DATABASE", "TABLESPACE", "POLICY", "RULE", "OPERATOR", "COLLATION",
        "CONVERSION", "CAST", "LANGUAGE", "PUBLICATION", "SUBSCRIPTION", "SERVER", "STATISTICS", "TRANSFORM", "WRAPPER",
        "CONFIGURATION", "DICTIONARY", "PARSER", "TEMPLATE", "METHOD", "SYSTEM", "PRIVILEGES", "OWNED",
    ];

    public static bool IsCopyFromStdin(string statement)
    {
        var tokens = new StatementTokens(statement);
        return tokens.StartsWith("COPY") && tokens.Contains("FROM", "STDIN");
    }

    public static string KindOf(string statement)
    {
        var words = new StatementTokens(statement).LeadingWords;
        if (words.Count == 0 || words[0] is not ("CREATE" or "ALTER" or "DROP"))
        {
            return words.FirstOrDefault() ?? "";
        }

        var typeIndex = 1 + words.Skip(1).TakeWhile(word => !ObjectTypes.Contains(word)).Count();
        return typeIndex < words.Count ? string.Join(' ', words.Take(typeIndex + 1)) : words[0];
    }

    public static IEnumerable<ScriptProblem> Check(SqlStatement statement, ScriptDirectives directives)
    {
        var tokens = new StatementTokens(statement.Text);
        if (TransactionControl(tokens) is { } command)
        {
            yield return new ScriptProblem(statement.Line, ProblemSeverity.Error,
                $"{command} is transaction control, which a migration script must not contain: {TransactionControlFix}");
        }

        if (directives.NoTransaction)
        {
            yield break;
        }

        if (OutsideTransactionOnly(tokens) is { } outsideOnly)
        {
            yield return new ScriptProblem(statement.Line, ProblemSeverity.Error, $"{outsideOnly} cannot run inside a transaction block: {OwnScriptFix}");
        }
        else if (tokens.StartsWith("ALTER", "TYPE") && tokens.Contains("ADD", "VALUE"))
        {
            yield return new ScriptProblem(statement.Line, ProblemSeverity.Warning,
                $"ALTER TYPE ... ADD VALUE: the new value cannot be used before the transaction commits, so no later statement of this script can use it; {OwnScriptFix}");
        }
    }

    static string? TransactionControl(StatementTokens tokens) => tokens.TopLevel switch
    {
        [var verb and ("START" or "PREPARE"), "TRANSACTION", ..] => $"{verb} TRANSACTION",
        ["START" or "PREPARE", ..] => null,
        [var verb and ("COMMIT" or "ROLLBACK"), "PREPARED", ..] => $"{verb} PREPARED",
        [var verb, ..] when TransactionCommands.Contains(verb) => verb,
        _ => null,
    };

    static string? OutsideTransactionOnly(StatementTokens tokens) => tokens.TopLevel switch
    {
        ["CREATE", "INDEX", "CONCURRENTLY", ..] or ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..] => "CREATE INDEX CONCURRENTLY",
        ["DROP", "INDEX", "CONCURRENTLY", ..] => "DROP INDEX CONCURRENTLY",
        ["REINDEX", ..] => Reindex(tokens),
        ["VACUUM", ..] => "VACUUM",
        ["CLUSTER", .. var rest] when rest.All(token => token is "VERBOSE" or "(" or ")") => "CLUSTER without a table name",
        [var verb and ("CREATE" or "DROP"), var type and ("DATABASE" or "TABLESPACE"), ..] => $"{verb} {type}",
        ["ALTER", "DATABASE", ..] when tokens.Contains("SET", "TABLESPACE") => "ALTER DATABASE ... SET TABLESPACE",
        ["ALTER", "SYSTEM", ..] => "ALTER SYSTEM",
        ["ALTER", "TABLE", ..] when tokens.Contains("DETACH", "PARTITION") && tokens.ContainsAtAnyDepth("CONCURRENTLY") =>
            "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY",
        ["CREATE", "SUBSCRIPTION", ..] when !tokens.SetsOptionOff("CONNECT") && !tokens.SetsOptionOff("CREATE_SLOT") =>
            "CREATE SUBSCRIPTION, which creates a replication slot,",
        ["DROP", "SUBSCRIPTION", ..] => "DROP SUBSCRIPTION of a subscription that has a replication slot",
        ["DISCARD", "ALL", ..] => "DISCARD ALL",
        _ => null,
    };

    static string? Reindex(StatementTokens tokens)
    {
        var target = tokens.TopLevel.Skip(1).FirstOrDefault(token => token is not ("(" or ")"));
        if (target is "SCHEMA" or "DATABASE" or "SYSTEM")
        {
            return $"REINDEX {target}";
        }

        return tokens.ContainsAtAnyDepth("CONCURRENTLY") ? "REINDEX ... CONCURRENTLY" : null;
    }
}
