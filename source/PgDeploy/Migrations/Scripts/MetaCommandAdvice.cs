namespace PgDeploy.Migrations.Scripts;

/// <summary>Explains why a psql meta-command cannot be in a migration script, with the plain SQL to use instead where there is one.</summary>
internal static class MetaCommandAdvice
{
    const string Variables = "use a literal value or a CTE instead of a psql variable";
    const string Includes = "split the work into separate migration scripts instead of including files";
    const string Connections = "switching connections is not possible: the runner runs each script on its connection to the target database";
    const string Conditionals = "use a DO block with IF";
    const string Messages = "use RAISE NOTICE in a DO block";
    const string QueryEnd = "end the statement with a semicolon";

    static readonly Dictionary<string, string> AdviceByCommand = new()
    {
        ["set"] = Variables,
        ["unset"] = Variables,
        ["gset"] = "use a CTE, or SELECT ... INTO in a DO block, instead of psql variables",
        ["gexec"] = "build and run the statements with EXECUTE in a DO block",
        ["g"] = QueryEnd,
        ["gx"] = QueryEnd,
        [";"] = QueryEnd,
        ["i"] = Includes,
        ["ir"] = Includes,
        ["include"] = Includes,
        ["include_relative"] = Includes,
        ["c"] = Connections,
        ["connect"] = Connections,
        ["if"] = Conditionals,
        ["elif"] = Conditionals,
        ["else"] = Conditionals,
        ["endif"] = Conditionals,
        ["echo"] = Messages,
        ["qecho"] = Messages,
        ["warn"] = Messages,
        ["copy"] = @"use COPY ... FROM STDIN with the data inline, ended by a \. line",
    };

    public static string Explain(string command)
    {
        var problem = $@"psql meta-command \{command}: migration scripts must be plain SQL because the runner executes them without psql";
        return AdviceByCommand.TryGetValue(command, out var advice) ? $"{problem}; {advice}" : problem;
    }
}
