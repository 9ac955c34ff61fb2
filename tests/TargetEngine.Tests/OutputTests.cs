namespace TargetEngine.Tests;

public sealed class OutputTests : IDisposable
{
    readonly Sandbox sandbox = new();

    class SecretBuild : BuildBase
    {
        [Parameter("Target environment")] readonly string TargetEnv = "local";
        [Parameter("Stage to deploy")] readonly Stage Stage = Stage.Local;
        [Parameter("Database password"), Secret] internal readonly string DbPassword = "initial-secret";
        [Parameter("Unlock code"), Secret] internal readonly int PinCode = 0;
        [Parameter("Hidden", List = false)] internal readonly string Hidden = "";
        [Parameter("A very long description that keeps going and going so that it has to be wrapped before the ninetieth column of the help text")]
        internal readonly string Verbose = "";

        Target Connect => _ => _
            .Description("Connects with the password")
            .Executes(() => Serilog.Log.Information("Connecting to {Environment} as {Stage}", TargetEnv, $"{Stage}"));

        Target Hide => _ => _.Unlisted().Executes(() => { });
    }

    [Fact]
    public void Help_lists_targets_with_default_marker_dependencies_and_descriptions_then_parameters_then_built_ins()
    {
        var result = sandbox.RunWithDefaults<DeployBuild>(["--help"], x => x.Deploy);

        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Targets);
        var output = sandbox.Output;
        Assert.StartsWith("Targets (with their direct dependencies):\n\n  Backup\n    Dumps the database\n  Migrate              -> Backup\n", output);
        Assert.Contains("\n  Deploy (default)     -> Verify\n    Upgrades the database\n", output);
        Assert.DoesNotContain("Report", output);
        Assert.Contains("\nParameters:\n\n  --fail-at           Target that throws.\n  --fail-rollback     Makes Rollback throw.\n\n  --target", output);
        Assert.True(output.IndexOf("--fail-rollback", StringComparison.Ordinal) < output.IndexOf("--verbosity", StringComparison.Ordinal));
    }

    [Fact]
    public void Help_shows_defaults_and_enum_values_wraps_long_text_and_hides_secret_values()
    {
        sandbox.Run<SecretBuild>("-h");

        var output = sandbox.Output;
        Assert.Contains("  --target-env        Target environment. Default: local.\n", output);
        Assert.Contains("  --stage             Stage to deploy. Default: Local. Allowed values: Local, Staging,\n                      Production.\n", output);
        Assert.Contains("  --db-password       Database password.\n", output);
        Assert.DoesNotContain("initial-secret", output);
        Assert.DoesNotContain("--hidden", output);
        Assert.DoesNotContain("Hide", output);
        Assert.All(output.Split('\n'), line => Assert.True(line.Length < 90, line));
    }

    [Fact]
    public void Secrets_never_appear_in_output_or_log_files()
    {
        var result = sandbox.Run<SecretBuild>("Connect", "--db-password", "hunter2-secret", "--verbosity", "verbose");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Parameter DbPassword = *** (command line)", sandbox.Output);
        Assert.Contains("Connecting to local as Local", sandbox.Output);
        Assert.DoesNotContain("hunter2", sandbox.Output);
        foreach (var file in Directory.GetFiles(sandbox.PathOf(".nuke/temp"), "*.log"))
            Assert.DoesNotContain("hunter2", File.ReadAllText(file));

        Assert.Equal(2, sandbox.Run<SecretBuild>("Connect", "--pin-code", "12ab-hunter2").ExitCode);
        Assert.Contains("Invalid value for parameter --pin-code (command line): expected a whole number, e.g. 3.", sandbox.Output);
        Assert.DoesNotContain("hunter2", sandbox.Output + sandbox.Read(".nuke/temp/build.log"));
    }

    [Fact]
    public void Plan_prints_the_order_with_relations_and_writes_a_mermaid_graph_without_running_anything()
    {
        var result = sandbox.RunWithDefaults<DeployBuild>(["--plan", "--skip", "Backup"], x => x.Deploy);

        Assert.Equal(0, result.ExitCode);
        Assert.All(result.Targets, x => Assert.NotEqual(TargetStatus.Succeeded, x.Status));
        var output = sandbox.Output;
        Assert.Contains("Execution plan for Deploy:", output);
        Assert.Matches(@"1\. Backup\s+skipped via --skip", output);
        Assert.Matches(@"2\. Migrate\s+depends on Backup", output);
        Assert.Matches(@"5\. Rollback\s+triggered by failure of Migrate, Verify", output);
        Assert.Matches(@"6\. Report\s+after Verify, Rollback; triggered by Backup", output);
        var html = sandbox.Read(".nuke/temp/execution-plan.html");
        Assert.Contains($"Plan graph written to {sandbox.PathOf(".nuke/temp/execution-plan.html")}", output);
        Assert.Contains("flowchart TD", html);
        Assert.Contains("t1 --> t2", html);
        Assert.Contains("t3 -.-> t6", html);
        Assert.Contains("t1 ==> t6", html);
        Assert.Contains("t2 ==>|on failure| t5", html);
        Assert.Contains("class t1 skipped", html);
    }

    [Fact]
    public void Plan_shows_static_conditions()
    {
        sandbox.Run<ConditionalBuild>("Publish", "--plan");

        Assert.Matches(@"1\. Publish\s+OnlyWhen: IsServerBuild", sandbox.Output);
    }

    class ConditionalBuild : BuildBase
    {
        Target Publish => _ => _.OnlyWhenStatic(() => IsServerBuild).Executes(() => { });
    }

    [Fact]
    public void Target_header_precedes_each_target_and_summary_has_no_ansi_when_redirected()
    {
        sandbox.Run<DeployBuild>("Backup");

        Assert.Contains("\n╬═══════════\n║ Backup\n╬══\n", sandbox.Output);
        Assert.DoesNotContain("\u001b[", sandbox.Output);
        Assert.Matches(@"Target\s+Status\s+Duration\s+Notes", sandbox.Output);
    }

    [Fact]
    public void Log_files_carry_the_executing_target_and_only_the_newest_five_are_kept()
    {
        for (var i = 0; i < 7; i++)
            sandbox.Write($".nuke/temp/build.2000-01-0{i + 1}_00-00-00.log", "old");

        sandbox.Run<SecretBuild>("Connect");

        Assert.Matches(@"\| I \| Connect\s+\| Connecting to local as Local", sandbox.Read(".nuke/temp/build.log"));
        var kept = Directory.GetFiles(sandbox.PathOf(".nuke/temp"), "build.*.log").Where(x => !x.EndsWith("build.log")).ToList();
        Assert.Equal(5, kept.Count);
        Assert.Contains(kept, x => !Path.GetFileName(x).StartsWith("build.2000-"));
    }

    [Fact]
    public void A_build_started_by_another_writes_its_file_logs_where_it_is_told_and_leaves_the_others_build_log_alone()
    {
        sandbox.Write(".nuke/temp/build.log", "the parent's log");

        sandbox.Run<SecretBuild>("Connect", "--log-directory", "children/tenant-1");

        Assert.Matches(@"\| I \| Connect\s+\| Connecting to local as Local", sandbox.Read("children/tenant-1/build.log"));
        Assert.Single(Directory.GetFiles(sandbox.PathOf("children/tenant-1"), "build.*.log"), x => !x.EndsWith("build.log"));
        Assert.Equal("the parent's log", sandbox.Read(".nuke/temp/build.log"));
    }

    [Fact]
    public void GitHub_Actions_gets_groups_annotations_and_a_step_summary()
    {
        sandbox.Environment["GITHUB_ACTIONS"] = "true";
        sandbox.Environment["GITHUB_STEP_SUMMARY"] = sandbox.PathOf("step-summary.md");

        var result = sandbox.Run<DeployBuild>("Deploy", "--fail-at", "Verify");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("::group::Verify\n", sandbox.Output);
        Assert.Contains("::endgroup::\n", sandbox.Output);
        Assert.Contains("::error::Verify: Verify broke%0Asecond line\n", sandbox.Output);
        Assert.DoesNotContain("╬", sandbox.Output);
        var summary = sandbox.Read("step-summary.md");
        Assert.Matches(@"\| Verify\s+\| Failed\s+\|", summary);
        Assert.Matches(@"\| Total\s+\|", summary);
        Assert.Contains("Verify failed; Rollback succeeded.", summary);
        Assert.DoesNotContain("\u001b", summary);
    }

    class LongWorkBuild : BuildBase
    {
        internal static ProgressBar? Bar;
        internal static bool CouldShow = true;

        Target Work => _ => _.Executes(() =>
        {
            CouldShow = CanShowProgressBars;
            Bar = StartProgressBar("Long work", 10, amount => $"{amount} items");
            Serilog.Log.Information("Worked");
        });
    }

    [Fact]
    public void Output_that_is_not_a_terminal_gets_no_progress_bar_and_its_log_lines_as_usual()
    {
        var result = sandbox.Run<LongWorkBuild>("Work");

        Assert.Equal(0, result.ExitCode);
        Assert.False(LongWorkBuild.CouldShow);
        Assert.Null(LongWorkBuild.Bar);
        Assert.Contains("[INF] Worked\n", sandbox.Output);
    }

    [Fact]
    public void Schema_and_default_parameters_file_are_written_on_each_run()
    {
        File.Delete(sandbox.PathOf(".nuke/parameters.json"));

        sandbox.Run<SecretBuild>("-h");

        Assert.Equal("{ \"$schema\": \"./build.schema.json\" }\n", sandbox.Read(".nuke/parameters.json"));
        var schema = System.Text.Json.JsonDocument.Parse(sandbox.Read(".nuke/build.schema.json")).RootElement;
        Assert.Equal("Target environment", schema.GetProperty("properties").GetProperty("TargetEnv").GetProperty("description").GetString());
        Assert.Equal(["Local", "Staging", "Production"], schema.GetProperty("properties").GetProperty("Stage").GetProperty("enum").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(["Connect", "Hide"], schema.GetProperty("definitions").GetProperty("ExecutableTarget").GetProperty("enum").EnumerateArray().Select(x => x.GetString()));
    }

    public void Dispose() => sandbox.Dispose();
}
