using CliWrap;
using CliWrap.Buffered;
using PgDeploy.Migrations;
using PgDeploy.Migrations.Analysis;
using PgDeploy.Migrations.Scripts;
using PgDeploy.Tests.Migrations.Support;

namespace PgDeploy.Tests.Migrations.Analysis;

/// <summary>squawk's JSON as findings, the tuning table against the pinned squawk, and the -- deploy:allow directive; no database needed.</summary>
public sealed class ScriptLinterTests
{
    private const string Script = """
        -- deploy:allow ban-drop-column because the new version reads names from first_name and last_name
        -- deploy:allow renaming-table because nothing renames here
        ALTER TABLE students
            DROP COLUMN full_name;
        TRUNCATE grades CASCADE;
        """;

    private static SqlScriptStep Step(string sql) =>
        new(AppVersion.Parse("0.2"), 40, "040_cleanup.sql", Checksum.Of(sql), SqlScriptParser.Parse(sql));

    [Fact]
    public void Squawks_json_becomes_findings_with_the_script_the_1_based_line_the_statement_the_tuned_severity_and_the_fix()
    {
        var step = Step(Script);
        const string json = """
            [{"file":"/m/v0.2/040_cleanup.sql","line":3,"column":4,"level":"Warning","message":"Dropping a column may break existing clients.","help":null,"rule_name":"ban-drop-column","column_end":26,"line_end":3},
             {"file":"/m/v0.2/040_cleanup.sql","line":4,"column":0,"level":"Warning","message":"Using `CASCADE` will recursively truncate any tables that foreign key to the referenced tables!","help":"Remove the `CASCADE` and specify exactly which tables you want to truncate.","rule_name":"ban-truncate-cascade","column_end":22,"line_end":4},
             {"file":"/m/v0.2/040_cleanup.sql","line":2,"column":0,"level":"Warning","message":"During normal index creation, table updates are blocked.","help":"Use `concurrently` to avoid blocking writes.","rule_name":"require-concurrent-index-creation","column_end":1,"line_end":2}]
            """;

        var findings = ScriptLinter.FindingsOf(json, new Dictionary<string, SqlScriptStep> { ["/m/v0.2/040_cleanup.sql"] = step }).ToList();

        Assert.Equal(
            new Finding(FindingSeverity.Warning, "ban-drop-column", "v0.2/040_cleanup.sql", 4, "ALTER TABLE students\n    DROP COLUMN full_name",
                "Dropping a column may break existing clients.", ""),
            findings[0]);
        Assert.Equal(FindingSeverity.Error, findings[1].Severity);
        Assert.Equal(5, findings[1].Line);
        Assert.Equal("TRUNCATE grades CASCADE", findings[1].Statement);
        Assert.Equal("Remove the `CASCADE` and specify exactly which tables you want to truncate.", findings[1].Fix);
        // Under the fence squawk's advice for a live application is replaced by the runner's.
        Assert.Equal(LintRules.Of("require-concurrent-index-creation").Fix, findings[2].Fix);
        Assert.DoesNotContain("concurrently", findings[2].Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Allow_directives_acknowledge_their_rule_in_their_script_and_one_that_allows_nothing_is_a_warning()
    {
        var step = Step(Script);
        var findings = new[]
        {
            new Finding(FindingSeverity.Warning, "ban-drop-column", step.DisplayName, 4, "", "drop", ""),
            new Finding(FindingSeverity.Error, "ban-truncate-cascade", step.DisplayName, 5, "", "truncate", ""),
        };

        var applied = Allowances.Apply(findings, [step]);

        Assert.Equal("the new version reads names from first_name and last_name", applied[0].Acknowledged);
        Assert.True(applied[1].Refuses);
        var unused = Assert.Single(applied, finding => finding.Rule == "renaming-table");
        Assert.Equal((FindingSeverity.Warning, 2), (unused.Severity, unused.Line));
        Assert.Contains("nothing to allow", unused.Message);
    }

    [Fact]
    public void An_acknowledged_error_keeps_its_severity_but_no_longer_refuses()
    {
        var step = Step("-- deploy:allow ban-truncate-cascade because only scratch tables reference it\nTRUNCATE grades CASCADE;");

        var finding = Assert.Single(Allowances.Apply([new Finding(FindingSeverity.Error, "ban-truncate-cascade", step.DisplayName, 2, "", "", "")], [step]));

        Assert.Equal(FindingSeverity.Error, finding.Severity);
        Assert.False(finding.Refuses);
        var report = new LintReport("squawk 2.66.0", [finding]);
        report.ThrowIfRefused();
        Assert.Equal("squawk 2.66.0: 0 warning(s), 1 error(s) (1 acknowledged)", report.Figure);
    }

    [Theory]
    [InlineData("-- deploy:allow ban-drop-table")]
    [InlineData("-- deploy:allow ban-drop-table because")]
    [InlineData("-- deploy:allow")]
    public void An_allow_directive_without_a_rule_and_a_reason_is_a_script_error(string directive)
    {
        var script = SqlScriptParser.Parse($"{directive}\nDROP TABLE old_grades;");

        var problem = Assert.Single(script.Problems);
        Assert.Equal((1, ProblemSeverity.Error), (problem.Line, problem.Severity));
        Assert.Contains("-- deploy:allow <rule> because <why it is safe here>", problem.Message);
        Assert.Empty(script.Directives.Allowances);
    }

    [Fact]
    public void Several_allow_directives_are_read_in_order_with_their_lines()
    {
        var script = SqlScriptParser.Parse("-- deploy:no-transaction\n-- deploy:allow Ban-Drop-Table because it was renamed in 0.3\n--deploy:allow renaming-column because the API ships with it\nSELECT 1;");

        Assert.Empty(script.Problems);
        Assert.True(script.Directives.NoTransaction);
        Assert.Equal(
            [new ScriptAllowance("ban-drop-table", "it was renamed in 0.3", 2), new ScriptAllowance("renaming-column", "the API ships with it", 3)],
            script.Directives.Allowances);
    }

    /// squawk refuses an unknown name in --include, so this proves the table names only rules the pinned squawk has.
    [Fact]
    public async Task Every_rule_of_the_tuning_table_is_a_rule_of_the_pinned_squawk_and_each_is_named_once()
    {
        var tools = SqlTools.In(TestPaths.RepositoryRoot);
        tools.EnsureInstalled();
        var names = LintRules.All.Select(rule => rule.Name).Where(name => !LintRules.Unconfigurable.Contains(name)).ToList();

        var result = await Cli.Wrap(tools.Squawk).WithArguments(["--reporter", "json", .. names.Select(name => $"--include={name}")])
            .WithStandardInputPipe(PipeSource.FromString("SELECT 1;")).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal(names.Count, names.Distinct().Count());
        // squawk 2.66.0 has 40 rules, unused-ignore among them; syntax-error is not one.
        Assert.Equal(40, LintRules.All.Count(rule => rule.Name != LintRules.SyntaxError));
    }
}
