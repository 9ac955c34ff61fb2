using PgDeploy.Migrations.Scripts;

namespace PgDeploy.Tests.Migrations.Scripts;

public class SqlScriptParserCopyTests
{
    [Fact]
    public void Reads_text_format_copy_data_up_to_the_end_marker_and_continues_after_it()
    {
        const string data = "1\tsemi;colon\t\\N\n2\tback\\\\slash\ttab\\there\n3\t'quoted'\t$$ -- not sql\n";
        var script = SqlScriptParser.Parse($"CREATE TABLE t (a int, b text, c text);\nCOPY t (a, b, c) FROM stdin;\n{data}\\.\nSELECT count(*) FROM t;\n");

        Assert.Equal(
            [
                new SqlStatement("CREATE TABLE t (a int, b text, c text)", 1, null),
                new SqlStatement("COPY t (a, b, c) FROM stdin", 2, data),
                new SqlStatement("SELECT count(*) FROM t", 7, null),
            ],
            script.Statements);
        Assert.Empty(script.Problems);
    }

    [Fact]
    public void Reads_csv_copy_data_with_options()
    {
        const string data = "id;name\n1;\"a;b\"\n2;\"line\\.\"\n";
        var script = SqlScriptParser.Parse($"copy t FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';');\n{data}\\.\nANALYZE t;");

        Assert.Equal(
            [new SqlStatement("copy t FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';')", 1, data), new SqlStatement("ANALYZE t", 6, null)],
            script.Statements);
    }

    [Fact]
    public void Detects_copy_after_leading_comments_and_with_old_style_options()
    {
        var script = SqlScriptParser.Parse("/* load */ -- rows\nCOPY BINARY t FROM Stdin;\nx\n\\.\n");

        var copy = Assert.Single(script.Statements);
        Assert.Equal("COPY BINARY t FROM Stdin", copy.Text);
        Assert.Equal("x\n", copy.CopyData);
    }

    [Fact]
    public void Ends_copy_data_at_the_end_of_the_file_without_an_end_marker()
    {
        var script = SqlScriptParser.Parse("SELECT 1;\nCOPY t FROM stdin;\n1\ta\n2\tb");

        Assert.Equal([new SqlStatement("SELECT 1", 1, null), new SqlStatement("COPY t FROM stdin", 2, "1\ta\n2\tb")], script.Statements);
        Assert.Empty(script.Problems);
    }

    [Theory]
    [InlineData("COPY t FROM stdin;")]
    [InlineData("COPY t FROM stdin;\n")]
    [InlineData("COPY t FROM stdin")]
    public void Gives_a_copy_at_the_end_of_the_file_empty_data(string text)
    {
        var copy = Assert.Single(SqlScriptParser.Parse(text).Statements);

        Assert.Equal(new SqlStatement("COPY t FROM stdin", 1, ""), copy);
    }

    [Fact]
    public void Reports_an_end_marker_without_a_line_break_because_psql_sends_it_as_data()
    {
        var script = SqlScriptParser.Parse("COPY t FROM stdin;\n1\n\\.");

        Assert.Equal("1\n\\.", Assert.Single(script.Statements).CopyData);
        var error = Assert.Single(script.Problems);
        Assert.Equal(new ScriptProblem(3, ProblemSeverity.Error, error.Message), error);
        Assert.Contains("no line break after it", error.Message);
    }

    [Fact]
    public void Keeps_crlf_line_ends_in_copy_data_and_accepts_a_crlf_end_marker()
    {
        var script = SqlScriptParser.Parse("COPY t FROM stdin;\r\n1\ta\r\n2\tb\r\n\\.\r\nSELECT 2;\r\n");

        Assert.Equal([new SqlStatement("COPY t FROM stdin", 1, "1\ta\r\n2\tb\r\n"), new SqlStatement("SELECT 2", 5, null)], script.Statements);
    }

    [Fact]
    public void Ends_copy_data_only_at_a_line_that_is_exactly_the_end_marker()
    {
        const string data = " \\.\n\\.x\n\\. \n\\\\.\n";
        var script = SqlScriptParser.Parse($"COPY t FROM stdin;\n{data}\\.\n");

        Assert.Equal(data, Assert.Single(script.Statements).CopyData);
    }

    [Fact]
    public void Does_not_read_meta_commands_or_directives_in_copy_data()
    {
        var script = SqlScriptParser.Parse("SELECT 1;\nCOPY t FROM stdin;\n\\set x 1\n-- deploy:no-transaction\nBEGIN;\n\\.\n");

        Assert.Equal("\\set x 1\n-- deploy:no-transaction\nBEGIN;\n", script.Statements[1].CopyData);
        Assert.Empty(script.Problems);
    }

    [Fact]
    public void Allows_a_comment_after_the_copy_statement_on_its_line()
    {
        var script = SqlScriptParser.Parse("COPY t FROM stdin; -- data follows; 'quoted'\n1\n\\.\nSELECT 2;");

        Assert.Equal([new SqlStatement("COPY t FROM stdin", 1, "1\n"), new SqlStatement("SELECT 2", 4, null)], script.Statements);
        Assert.Empty(script.Problems);
    }

    [Fact]
    public void Rejects_a_statement_after_the_copy_statement_on_its_line()
    {
        // psql would run "SELECT 42" after the data, out of order with the lines that follow the data.
        var script = SqlScriptParser.Parse("COPY t FROM stdin; SELECT 42;\n1\n\\.\nSELECT 2;");

        Assert.Equal([new SqlStatement("COPY t FROM stdin", 1, "1\n"), new SqlStatement("SELECT 2", 4, null)], script.Statements);
        var error = Assert.Single(script.Problems);
        Assert.Equal(1, error.Line);
        Assert.Contains("text after the semicolon of COPY ... FROM STDIN", error.Message);
    }

    [Theory]
    [InlineData("COPY t TO STDOUT")]
    [InlineData("COPY (SELECT * FROM stdin_log) TO stdout WITH (FORMAT csv)")]
    [InlineData("COPY t FROM '/data/stdin'")]
    [InlineData("COPY t FROM PROGRAM 'cat stdin'")]
    [InlineData("SELECT 'COPY t FROM STDIN'")]
    [InlineData("COPY \"from\" TO stdout")]
    public void Treats_other_copy_forms_as_ordinary_statements(string statement)
    {
        var script = SqlScriptParser.Parse($"{statement};\nSELECT 2;");

        Assert.Equal([new SqlStatement(statement, 1, null), new SqlStatement("SELECT 2", 2, null)], script.Statements);
    }
}
