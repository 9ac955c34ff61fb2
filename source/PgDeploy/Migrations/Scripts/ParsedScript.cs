namespace PgDeploy.Migrations.Scripts;

/// <summary>A migration script split into the statements psql would send, with its directives and everything that stops it from running as plain SQL.</summary>
public sealed record ParsedScript(IReadOnlyList<SqlStatement> Statements, ScriptDirectives Directives, IReadOnlyList<ScriptProblem> Problems)
{
    public bool HasErrors => Problems.Any(problem => problem.Severity == ProblemSeverity.Error);
}

/// <param name="Text">The statement as written, from its first token to before its terminating semicolon.</param>
/// <param name="Line">The 1-based line on which <paramref name="Text"/> starts.</param>
/// <param name="CopyData">For COPY ... FROM STDIN, the inline data exactly as written (line ends kept, without the \. line); otherwise null.</param>
public sealed record SqlStatement(string Text, int Line, string? CopyData)
{
    /// <summary>The leading keywords that name the command, such as "INSERT" or "CREATE UNIQUE INDEX".</summary>
    public string Kind => StatementClassifier.KindOf(Text);
}

public sealed record ScriptDirectives(bool NoTransaction, TimeSpan? LockTimeout, TimeSpan? StatementTimeout)
{
    public static readonly ScriptDirectives None = new(false, null, null);

    /// The findings this script acknowledges (`-- deploy:allow &lt;rule&gt; because &lt;reason&gt;`), in the order written.
    public IReadOnlyList<ScriptAllowance> Allowances { get; init; } = [];
}

/// <param name="Line">The directive's line: a directive that allows nothing is reported there.</param>
public sealed record ScriptAllowance(string Rule, string Reason, int Line);

public enum ProblemSeverity
{
    Error,
    Warning,
}

public sealed record ScriptProblem(int Line, ProblemSeverity Severity, string Message)
{
    public override string ToString() => $"line {Line}: {Severity.ToString().ToLowerInvariant()}: {Message}";
}
