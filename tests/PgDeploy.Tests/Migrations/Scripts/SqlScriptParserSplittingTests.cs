using PgDeploy.Migrations.Scripts;

namespace PgDeploy.Tests.Migrations.Scripts;

public class SqlScriptParserSplittingTests
{
    [Fact]
    public void Splits_statements_at_semicolons_and_records_their_start_lines()
    {
        var script = SqlScriptParser.Parse("CREATE TABLE a (id int);\n\n\nINSERT INTO a VALUES (1); INSERT INTO a\n  VALUES (2);\n");

        Assert.Equal(
            [("CREATE TABLE a (id int)", 1), ("INSERT INTO a VALUES (1)", 4), ("INSERT INTO a\n  VALUES (2)", 4)],
            Summaries(script));
        Assert.Empty(script.Problems);
        Assert.All(script.Statements, statement => Assert.Null(statement.CopyData));
    }

    [Fact]
    public void Sends_text_after_the_last_semicolon_as_a_final_statement()
    {
        var script = SqlScriptParser.Parse("SELECT 1;\nSELECT 2\n  FROM t -- no semicolon\n\n");

        Assert.Equal([("SELECT 1", 1), ("SELECT 2\n  FROM t -- no semicolon", 2)], Summaries(script));
    }

    [Fact]
    public void Drops_empty_statements_and_trailing_comments()
    {
        var script = SqlScriptParser.Parse(";;\nSELECT 1;;\n  ;\n/* only a comment */;\n-- trailing comment\n/* and another */\n");

        Assert.Equal([("SELECT 1", 2)], Summaries(script));
    }

    [Fact]
    public void Starts_a_statement_at_its_first_token_and_keeps_the_comments_inside_it()
    {
        var script = SqlScriptParser.Parse("""
            -- header comment
            /* block header */

              SELECT 1, -- first column
                     /* second */ 2
              -- before the semicolon
              ;
            """);

        var statement = Assert.Single(script.Statements);
        Assert.Equal("SELECT 1, -- first column\n         /* second */ 2\n  -- before the semicolon", statement.Text);
        Assert.Equal(4, statement.Line);
    }

    [Fact]
    public void Ignores_semicolons_in_single_quoted_strings_with_doubled_quotes()
    {
        var script = SqlScriptParser.Parse("INSERT INTO t VALUES ('a;b', 'it''s; fine', '');\nSELECT ''';';");

        Assert.Equal(["INSERT INTO t VALUES ('a;b', 'it''s; fine', '')", "SELECT ''';'"], Texts(script));
    }

    [Fact]
    public void Treats_a_backslash_in_a_standard_string_as_an_ordinary_character()
    {
        var script = SqlScriptParser.Parse(@"SELECT 'C:\'; SELECT 'a\''; SELECT 2;");

        Assert.Equal([@"SELECT 'C:\'", @"SELECT 'a\''; SELECT 2;"], Texts(script));
        Assert.Contains(script.Problems, problem => problem.Message.StartsWith("unterminated quoted string"));
    }

    [Fact]
    public void Honours_backslash_escapes_in_escape_strings()
    {
        var script = SqlScriptParser.Parse(@"SELECT E'it\'s; \\'; SELECT e'\\'; SELECT E'a''b;\n';");

        Assert.Equal([@"SELECT E'it\'s; \\'", @"SELECT e'\\'", @"SELECT E'a''b;\n'"], Texts(script));
        Assert.Empty(script.Problems);
    }

    [Fact]
    public void Reads_prefixed_strings_and_unicode_escapes_as_strings()
    {
        var script = SqlScriptParser.Parse("SELECT U&'d;\\0061', u&\"x;y\", X'1F;', b'01;', N'n;';\nSELECT 2;");

        Assert.Equal(["SELECT U&'d;\\0061', u&\"x;y\", X'1F;', b'01;', N'n;'", "SELECT 2"], Texts(script));
    }

    [Fact]
    public void Does_not_treat_a_word_ending_in_e_as_an_escape_string_prefix()
    {
        var script = SqlScriptParser.Parse(@"SELECT date'\'; SELECT 2;");

        Assert.Equal([@"SELECT date'\'", "SELECT 2"], Texts(script));
    }

    [Fact]
    public void Ignores_semicolons_in_quoted_identifiers_with_doubled_quotes()
    {
        var script = SqlScriptParser.Parse("CREATE TABLE \"odd;name\"\"x\" (\"col;\" int);\nDROP TABLE \"odd;name\"\"x\";");

        Assert.Equal(["CREATE TABLE \"odd;name\"\"x\" (\"col;\" int)", "DROP TABLE \"odd;name\"\"x\""], Texts(script));
    }

    [Fact]
    public void Ignores_semicolons_and_quotes_in_line_comments()
    {
        var script = SqlScriptParser.Parse("SELECT 1 -- it's; \"odd\" $$ /*\n, 2;\nSELECT 3;--x;y\nSELECT 4;");

        Assert.Equal(["SELECT 1 -- it's; \"odd\" $$ /*\n, 2", "SELECT 3", "SELECT 4"], Texts(script));
    }

    [Fact]
    public void Ends_line_comments_at_a_line_break_inside_an_operator()
    {
        var script = SqlScriptParser.Parse("SELECT 1--2;\n;SELECT 3<--comment;\n4;");

        Assert.Equal(["SELECT 1--2;", "SELECT 3<--comment;\n4"], Texts(script));
    }

    [Fact]
    public void Ignores_semicolons_in_nested_block_comments()
    {
        var script = SqlScriptParser.Parse("SELECT /* outer /* inner; */ still; 'quote */ 1;\nSELECT /*/ x; */ 2; SELECT 3 /**/;");

        Assert.Equal(["SELECT /* outer /* inner; */ still; 'quote */ 1", "SELECT /*/ x; */ 2", "SELECT 3 /**/"], Texts(script));
    }

    [Fact]
    public void Keeps_dollar_quoted_function_bodies_with_nested_tags_whole()
    {
        const string function = """
            CREATE OR REPLACE FUNCTION add_one(p int) RETURNS int AS $body$
            DECLARE
                v text := $$;$$;
                w text := $inner$ it's; $body $ $inner$;
            BEGIN
                RETURN p + 1; -- done;
            END;
            $body$ LANGUAGE plpgsql
            """;

        var script = SqlScriptParser.Parse(function + ";\nSELECT add_one(1);");

        Assert.Equal([(function, 1), ("SELECT add_one(1)", 9)], Summaries(script));
        Assert.Empty(script.Problems);
    }

    [Fact]
    public void Keeps_do_blocks_whole()
    {
        const string block = """
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') THEN
                    CREATE ROLE app;
                END IF;
                COMMIT;
            END
            $$
            """;

        var script = SqlScriptParser.Parse(block + ";\nDO LANGUAGE plpgsql $_$BEGIN NULL; END$_$;");

        Assert.Equal([block, "DO LANGUAGE plpgsql $_$BEGIN NULL; END$_$"], Texts(script));
        Assert.Empty(script.Problems);
    }

    [Theory]
    [InlineData("PREPARE q(int) AS SELECT $1; EXECUTE q(1);", new[] { "PREPARE q(int) AS SELECT $1", "EXECUTE q(1)" })]
    [InlineData("SELECT $1a$; SELECT 2;", new[] { "SELECT $1a$", "SELECT 2" })]
    [InlineData("SELECT a$$b FROM t; SELECT 2;", new[] { "SELECT a$$b FROM t", "SELECT 2" })]
    [InlineData("SELECT 1$$;$$; SELECT 2;", new[] { "SELECT 1$$;$$", "SELECT 2" })]
    [InlineData("SELECT $a1$;$a1$, $_$;$_$; SELECT 2;", new[] { "SELECT $a1$;$a1$, $_$;$_$", "SELECT 2" })]
    [InlineData("SELECT $tag$ $TAG$; $tag$; SELECT 2;", new[] { "SELECT $tag$ $TAG$; $tag$", "SELECT 2" })]
    [InlineData("SELECT $abc; SELECT 2;", new[] { "SELECT $abc", "SELECT 2" })]
    public void Recognises_dollar_quotes_only_where_psql_does(string text, string[] expected)
    {
        Assert.Equal(expected, Texts(SqlScriptParser.Parse(text)));
    }

    [Fact]
    public void Keeps_semicolons_inside_parentheses()
    {
        var script = SqlScriptParser.Parse("""
            CREATE RULE log_insert AS ON INSERT TO items
                DO INSTEAD (INSERT INTO log VALUES (new.id); INSERT INTO log VALUES (new.id + 1));
            SELECT (1);
            """);

        Assert.Equal(
            ["CREATE RULE log_insert AS ON INSERT TO items\n    DO INSTEAD (INSERT INTO log VALUES (new.id); INSERT INTO log VALUES (new.id + 1))", "SELECT (1)"],
            Texts(script));
    }

    [Fact]
    public void Keeps_a_begin_atomic_function_body_whole()
    {
        const string function = """
            CREATE FUNCTION absolute(a int) RETURNS int LANGUAGE sql
            BEGIN ATOMIC
                SELECT CASE WHEN a > 0 THEN a ELSE -a END;
                SELECT 1;
            END
            """;

        var script = SqlScriptParser.Parse(function + ";\nSELECT absolute(-1);");

        Assert.Equal([(function, 1), ("SELECT absolute(-1)", 6)], Summaries(script));
    }

    [Theory]
    [InlineData("create or replace procedure p(x int) language sql begin atomic insert into t values (x); insert into t values (x); end")]
    [InlineData("CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT (CASE WHEN true THEN 1 END); SELECT 2; END")]
    [InlineData("CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC; END")]
    public void Keeps_begin_atomic_bodies_of_procedures_and_replaced_functions_whole(string routine)
    {
        Assert.Equal([routine, "SELECT 2"], Texts(SqlScriptParser.Parse(routine + ";\nSELECT 2;")));
    }

    [Fact]
    public void Does_not_track_begin_outside_function_definitions_or_inside_parentheses()
    {
        var script = SqlScriptParser.Parse("""
            CREATE TABLE begin_log (begin int, "end" int);
            CREATE FUNCTION f(begin int DEFAULT 1) RETURNS int LANGUAGE sql RETURN 1;
            SELECT 2;
            """);

        Assert.Equal(3, script.Statements.Count);
    }

    [Fact]
    public void Follows_psql_when_a_function_named_begin_makes_it_wait_for_an_end()
    {
        // psql counts any BEGIN in a CREATE FUNCTION statement, so it sends everything up to the next END; with it.
        var script = SqlScriptParser.Parse("CREATE FUNCTION begin() RETURNS int LANGUAGE sql RETURN 1;\nSELECT 3;\nEND;\nSELECT 4;");

        Assert.Equal([("CREATE FUNCTION begin() RETURNS int LANGUAGE sql RETURN 1;\nSELECT 3;\nEND", 1), ("SELECT 4", 4)], Summaries(script));
    }

    [Fact]
    public void Keeps_crlf_line_ends_inside_statements_and_counts_them_as_one_line()
    {
        var script = SqlScriptParser.Parse("SELECT 1;\r\n\r\nSELECT 'a\r\nb';\r\n-- note\r\nCREATE FUNCTION f() RETURNS int LANGUAGE sql\r\nBEGIN ATOMIC\r\n  SELECT 1;\r\nEND;\r\nSELECT 3\r\n");

        Assert.Equal(
            [("SELECT 1", 1), ("SELECT 'a\r\nb'", 3), ("CREATE FUNCTION f() RETURNS int LANGUAGE sql\r\nBEGIN ATOMIC\r\n  SELECT 1;\r\nEND", 6), ("SELECT 3", 10)],
            Summaries(script));
    }

    [Fact]
    public void Ignores_a_byte_order_mark()
    {
        var script = SqlScriptParser.Parse("\uFEFF-- deploy:no-transaction\nSELECT 1;");

        Assert.Equal([("SELECT 1", 2)], Summaries(script));
        Assert.True(script.Directives.NoTransaction);
    }

    [Theory]
    [InlineData("SELECT 1;\nSELECT 'abc;\nSELECT 3;", "unterminated quoted string", "SELECT 'abc;\nSELECT 3;")]
    [InlineData("SELECT 1;\nSELECT $$abc;\nSELECT 3;", "unterminated dollar-quoted string", "SELECT $$abc;\nSELECT 3;")]
    [InlineData("SELECT 1;\nSELECT \"abc;\nSELECT 3;", "unterminated quoted identifier", "SELECT \"abc;\nSELECT 3;")]
    [InlineData("SELECT 1;\nSELECT /* a /* b */;\nSELECT 3;", "unterminated /* comment", "SELECT /* a /* b */;\nSELECT 3;")]
    public void Reports_unterminated_quotes_and_sends_the_rest_as_one_statement_like_psql(string text, string problem, string last)
    {
        var script = SqlScriptParser.Parse(text);

        Assert.Equal(["SELECT 1", last], Texts(script));
        var error = Assert.Single(script.Problems);
        Assert.Equal(ProblemSeverity.Error, error.Severity);
        Assert.Equal(2, error.Line);
        Assert.StartsWith(problem, error.Message);
    }

    [Theory]
    [InlineData("select * from t", "SELECT")]
    [InlineData("/* c */ INSERT INTO t VALUES (1)", "INSERT")]
    [InlineData("create unique index i on t (a)", "CREATE UNIQUE INDEX")]
    [InlineData("CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql", "CREATE OR REPLACE FUNCTION")]
    [InlineData("ALTER TABLE t ADD COLUMN c int", "ALTER TABLE")]
    [InlineData("DROP MATERIALIZED VIEW IF EXISTS v", "DROP MATERIALIZED VIEW")]
    [InlineData("CREATE something_new x", "CREATE")]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM x", "WITH")]
    [InlineData("(SELECT 1)", "")]
    public void Names_the_kind_of_a_statement_by_its_leading_keywords(string text, string kind)
    {
        Assert.Equal(kind, new SqlStatement(text, 1, null).Kind);
    }

    static string[] Texts(ParsedScript script) => script.Statements.Select(statement => statement.Text).ToArray();

    static (string Text, int Line)[] Summaries(ParsedScript script) => script.Statements.Select(statement => (statement.Text, statement.Line)).ToArray();
}
