using PgDeploy.Migrations.Scripts;

namespace PgDeploy.Tests.Migrations.Scripts;

public class SqlScriptParserDirectiveTests
{
    [Fact]
    public void Has_no_directives_by_default()
    {
        var script = SqlScriptParser.Parse("-- just a comment\n-- deploy notes: none\nSELECT 1;");

        Assert.Equal(ScriptDirectives.None, script.Directives);
        Assert.Empty(script.Problems);
    }

    [Fact]
    public void Reads_all_directives_from_the_leading_comment_lines()
    {
        var script = SqlScriptParser.Parse("""

            /* Adds the orders index. */
            -- deploy:no-transaction
            --deploy:lock-timeout 5s
              -- Deploy:Statement-Timeout   30min
            CREATE INDEX CONCURRENTLY orders_customer ON orders (customer_id);
            """);

        Assert.Equal(new ScriptDirectives(true, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(30)), script.Directives);
        Assert.Empty(script.Problems);
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5_000)]
    [InlineData("2min", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("10 s", 10_000)]
    [InlineData("0s", 0)]
    public void Accepts_postgres_time_units(string value, int milliseconds)
    {
        var script = SqlScriptParser.Parse($"-- deploy:statement-timeout {value}\nSELECT 1;");

        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), script.Directives.StatementTimeout);
        Assert.Empty(script.Problems);
    }

    [Theory]
    [InlineData("-- deploy:lock-timeout", "'-- deploy:lock-timeout' needs a duration")]
    [InlineData("-- deploy:lock-timeout 5", "'-- deploy:lock-timeout 5' has an invalid duration '5'")]
    [InlineData("-- deploy:lock-timeout 5sec", "has an invalid duration '5sec'")]
    [InlineData("-- deploy:lock-timeout 5S", "has an invalid duration '5S'")]
    [InlineData("-- deploy:lock-timeout -1s", "has an invalid duration '-1s'")]
    [InlineData("-- deploy:lock-timeout 25d", "has an invalid duration '25d'")]
    [InlineData("-- deploy:statement-timeout 5s please", "has an invalid duration '5s please'")]
    [InlineData("-- deploy:no-transaction yes", "'-- deploy:no-transaction yes' takes no value")]
    [InlineData("-- deploy:notransaction", "'-- deploy:notransaction' is not a known directive")]
    [InlineData("-- deploy: run after hours", "'-- deploy: run after hours' is not a known directive")]
    public void Rejects_unknown_directives_and_bad_values_listing_the_known_ones(string directive, string message)
    {
        var script = SqlScriptParser.Parse($"-- header\n{directive}\nSELECT 1;");

        var error = Assert.Single(script.Problems);
        Assert.Equal(2, error.Line);
        Assert.Equal(ProblemSeverity.Error, error.Severity);
        Assert.Contains(message, error.Message);
        Assert.EndsWith(
            "known directives: -- deploy:no-transaction, -- deploy:lock-timeout <duration>, -- deploy:statement-timeout <duration>, "
            + "-- deploy:allow <rule> because <reason>, with durations such as 500ms, 5s, 2min, 1h or 1d",
            error.Message);
        Assert.Equal(ScriptDirectives.None, script.Directives);
    }

    [Fact]
    public void Ignores_directives_after_the_first_statement_with_a_warning()
    {
        var script = SqlScriptParser.Parse("-- deploy:lock-timeout 1s\nSELECT 1;\n-- deploy:no-transaction\nSELECT 2 -- deploy:bogus\n;");

        Assert.Equal(new ScriptDirectives(false, TimeSpan.FromSeconds(1), null), script.Directives);
        Assert.Equal([3, 4], script.Problems.Select(problem => problem.Line));
        Assert.All(script.Problems, problem => Assert.Equal(ProblemSeverity.Warning, problem.Severity));
        Assert.Equal(
            "'-- deploy:no-transaction' is ignored: directives are read only from the leading comment lines, before the first statement",
            script.Problems[0].Message);
    }

    [Fact]
    public void Does_not_read_directives_inside_strings_or_function_bodies()
    {
        var script = SqlScriptParser.Parse("SELECT '\n-- deploy:no-transaction\n';\nDO $$\n-- deploy:no-transaction\nBEGIN END $$;");

        Assert.Equal(ScriptDirectives.None, script.Directives);
        Assert.Empty(script.Problems);
    }
}
