using PgDeploy.Migrations.Scripts;

namespace PgDeploy.Tests.Migrations.Scripts;

public class SqlScriptParserMetaCommandTests
{
    [Theory]
    [InlineData(@"\set schema app", @"\set", "use a literal value or a CTE instead of a psql variable")]
    [InlineData(@"\unset schema", @"\unset", "use a literal value or a CTE instead of a psql variable")]
    [InlineData(@"\i 002_more.sql", @"\i", "split the work into separate migration scripts")]
    [InlineData(@"\ir more.sql", @"\ir", "split the work into separate migration scripts")]
    [InlineData(@"\include more.sql", @"\include", "split the work into separate migration scripts")]
    [InlineData(@"\include_relative more.sql", @"\include_relative", "split the work into separate migration scripts")]
    [InlineData(@"\connect other", @"\connect", "switching connections is not possible")]
    [InlineData(@"\c other", @"\c", "switching connections is not possible")]
    [InlineData(@"\if :flag", @"\if", "use a DO block with IF")]
    [InlineData(@"\endif", @"\endif", "use a DO block with IF")]
    [InlineData(@"\echo hello", @"\echo", "use RAISE NOTICE in a DO block")]
    [InlineData(@"\copy t from 'file.csv' csv", @"\copy", @"use COPY ... FROM STDIN with the data inline")]
    [InlineData(@"\gexec", @"\gexec", "build and run the statements with EXECUTE in a DO block")]
    [InlineData(@"\timing on", @"\timing", "")]
    [InlineData(@"\.", @"\.", "")]
    public void Rejects_meta_commands_naming_them_and_the_sql_alternative(string line, string command, string advice)
    {
        var script = SqlScriptParser.Parse($"SELECT 1;\n{line}\nSELECT 2;");

        Assert.Equal([("SELECT 1", 1), ("SELECT 2", 3)], script.Statements.Select(statement => (statement.Text, statement.Line)));
        var error = Assert.Single(script.Problems);
        Assert.Equal(2, error.Line);
        Assert.Equal(ProblemSeverity.Error, error.Severity);
        Assert.StartsWith($"psql meta-command {command}: migration scripts must be plain SQL because the runner executes them without psql", error.Message);
        Assert.Contains(advice, error.Message);
    }

    [Fact]
    public void Ends_the_statement_before_a_meta_command_that_ends_a_query()
    {
        var script = SqlScriptParser.Parse("SELECT id AS user_id\nFROM users LIMIT 1 \\gset\nSELECT 2;");

        Assert.Equal([("SELECT id AS user_id\nFROM users LIMIT 1", 1), ("SELECT 2", 3)], script.Statements.Select(statement => (statement.Text, statement.Line)));
        var error = Assert.Single(script.Problems);
        Assert.Equal(2, error.Line);
        Assert.Contains(@"\gset", error.Message);
        Assert.Contains("use a CTE, or SELECT ... INTO in a DO block, instead of psql variables", error.Message);
    }

    [Theory]
    [InlineData(@"SELECT 1 \g")]
    [InlineData(@"SELECT 1 \gx")]
    [InlineData(@"SELECT 1 \; SELECT 2")]
    public void Suggests_a_semicolon_for_meta_commands_that_send_the_query(string line)
    {
        var error = Assert.Single(SqlScriptParser.Parse(line).Problems);

        Assert.EndsWith("end the statement with a semicolon", error.Message);
    }

    [Fact]
    public void Reports_each_meta_command_line()
    {
        var script = SqlScriptParser.Parse("\\set ON_ERROR_STOP on\n\\set x 1\nSELECT :x;\n\\unset x");

        Assert.Equal([1, 2, 4], script.Problems.Select(problem => problem.Line));
        Assert.Equal(["SELECT :x"], script.Statements.Select(statement => statement.Text));
    }

    [Fact]
    public void Does_not_mistake_backslashes_in_strings_comments_identifiers_or_dollar_quotes_for_meta_commands()
    {
        var script = SqlScriptParser.Parse("""
            SELECT 'C:\set', E'\\i file \' \\', U&'\0041', "odd\name";
            -- \connect other
            /* \i file.sql */
            DO $$ BEGIN RAISE NOTICE '\set x'; END $$;
            CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT '\gset' $body$;
            COPY t FROM stdin;
            \N	\\
            \set x 1
            \.
            SELECT 5;
            """);

        Assert.Empty(script.Problems);
        Assert.Equal(5, script.Statements.Count);
    }
}
