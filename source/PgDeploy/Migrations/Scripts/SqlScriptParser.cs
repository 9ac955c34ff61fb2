namespace PgDeploy.Migrations.Scripts;

/// <summary>
/// Parses a migration script written as a psql script body: splits it into the statements psql would send,
/// reads its directives, and reports what prevents it from running through the runner as psql would run it.
/// </summary>
public static class SqlScriptParser
{
    public static ParsedScript Parse(string text)
    {
        var split = ScriptSplitter.Split(text);
        var problems = split.Problems.ToList();
        var directives = DirectiveReader.Read(split.LineComments, problems);
        problems.AddRange(split.Statements.SelectMany(statement => StatementClassifier.Check(statement, directives)));
        return new ParsedScript(split.Statements, directives, problems.OrderBy(problem => problem.Line).ToList());
    }
}
