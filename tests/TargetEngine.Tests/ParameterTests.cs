namespace TargetEngine.Tests;

public enum Stage { Local, Staging, Production }

public sealed class ParameterTests : IDisposable
{
    readonly Sandbox sandbox = new();

    internal class Build : BuildBase
    {
        [Parameter("Target environment")] internal readonly string TargetEnv = "local";
        [Parameter("Stage to deploy")] internal readonly Stage Stage = Stage.Local;
        [Parameter] internal readonly int Retries = 1;
        [Parameter] internal readonly long MaxRows = 0;
        [Parameter] internal readonly double Ratio = 0.5;
        [Parameter] internal readonly bool Yes = false;
        [Parameter] internal readonly string[] Hosts = [];
        [Parameter] internal readonly Stage[] Stages = [];
        [Parameter] internal readonly AbsolutePath? Dump = null;
        [Parameter] internal readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);
        [Parameter] internal readonly int? Port = null;
        [Parameter("Renamed", Name = "Region")] internal string Zone { get; } = "eu";

        public static Build? Last { get; private set; }

        Target Show => _ => _.Executes(() => Last = this);
    }

    Build Run(params string[] args)
    {
        var result = sandbox.Run<Build>(["Show", .. args]);
        Assert.True(result.ExitCode == 0, sandbox.Output);
        return Build.Last!;
    }

    [Fact]
    public void Precedence_is_command_line_then_environment_then_profile_then_parameters_json_then_initializer()
    {
        sandbox.Write(".nuke/parameters.json", """{ "$schema": "./build.schema.json", "TargetEnv": "json" }""");
        sandbox.Write(".nuke/parameters.prod.json", """{ "TargetEnv": "profile" }""");
        sandbox.Environment["TARGET_ENV"] = "environment";

        Assert.Equal("cli", Run("--profile", "prod", "--target-env", "cli").TargetEnv);
        Assert.Equal("environment", Run("--profile", "prod").TargetEnv);
        sandbox.Environment.Clear();
        Assert.Equal("profile", Run("--profile", "prod").TargetEnv);
        Assert.Equal("json", Run().TargetEnv);
        sandbox.Write(".nuke/parameters.json", "{}");
        Assert.Equal("local", Run().TargetEnv);
    }

    [Fact]
    public void Later_profiles_win()
    {
        sandbox.Write(".nuke/parameters.a.json", """{ "TargetEnv": "a", "Retries": 5 }""");
        sandbox.Write(".nuke/parameters.b.json", """{ "targetenv": "b" }""");

        var build = Run("--profile", "a", "b");

        Assert.Equal("b", build.TargetEnv);
        Assert.Equal(5, build.Retries);
    }

    [Fact]
    public void Command_line_forms_ignore_dashes_and_case_and_the_last_occurrence_wins()
    {
        Assert.Equal("a", Run("--target-env=a").TargetEnv);
        Assert.Equal("b", Run("--TargetEnv", "b").TargetEnv);
        Assert.Equal("c", Run("-TARGETENV", "c").TargetEnv);
        Assert.Equal("e", Run("--target-env", "d", "--target-env", "e").TargetEnv);
    }

    [Fact]
    public void Environment_accepts_member_name_screaming_snake_and_nuke_prefix()
    {
        sandbox.Environment["TargetEnv"] = "exact";
        Assert.Equal("exact", Run().TargetEnv);

        sandbox.Environment.Clear();
        sandbox.Environment["NUKE_TARGET_ENV"] = "prefixed";
        Assert.Equal("prefixed", Run().TargetEnv);
    }

    [Fact]
    public void Conflicting_environment_variables_are_an_error_naming_both()
    {
        sandbox.Environment["TARGET_ENV"] = "a";
        sandbox.Environment["NUKE_TARGET_ENV"] = "b";

        Assert.Equal(2, sandbox.Run<Build>("Show").ExitCode);
        Assert.Contains("Environment variables NUKE_TARGET_ENV and TARGET_ENV set parameter --target-env to different values.", sandbox.Output);
    }

    [Fact]
    public void Values_are_converted_to_the_member_type()
    {
        var build = Run(
            "--stage", "production", "--retries", "3", "--max-rows", "10000000000", "--ratio", "0.25", "--yes",
            "--hosts", "a", "b+c", "--stages", "local+Staging", "--dump", "backups/x.dump", "--timeout", "00:05:00", "--port", "5432", "--region", "us");

        Assert.Equal(Stage.Production, build.Stage);
        Assert.Equal(3, build.Retries);
        Assert.Equal(10_000_000_000, build.MaxRows);
        Assert.Equal(0.25, build.Ratio);
        Assert.True(build.Yes);
        Assert.Equal(["a", "b", "c"], build.Hosts);
        Assert.Equal([Stage.Local, Stage.Staging], build.Stages);
        Assert.Equal(Path.Combine(sandbox.Root, "backups", "x.dump"), build.Dump!.ToString());
        Assert.Equal(TimeSpan.FromMinutes(5), build.Timeout);
        Assert.Equal(5432, build.Port);
        Assert.Equal("us", build.Zone);
    }

    [Fact]
    public void Bool_switch_takes_an_explicit_false_and_files_give_typed_values()
    {
        Assert.False(Run("--yes", "false").Yes);

        sandbox.Write(".nuke/parameters.json", """{ "Retries": 7, "Yes": true, "Hosts": ["x", "y"], "Stage": "staging" }""");
        var build = Run();
        Assert.Equal(7, build.Retries);
        Assert.True(build.Yes);
        Assert.Equal(["x", "y"], build.Hosts);
        Assert.Equal(Stage.Staging, build.Stage);
    }

    [Fact]
    public void Non_default_parameters_are_logged_with_their_source_in_the_log_file_and_on_the_console_only_when_verbose()
    {
        sandbox.Environment["RETRIES"] = "4";

        Run("--target-env", "prod");

        var log = sandbox.Read(".nuke/temp/build.log");
        Assert.Contains("| D | ", log);
        Assert.Contains("Parameter TargetEnv = prod (command line)", log);
        Assert.Contains("Parameter Retries = 4 (environment variable RETRIES)", log);
        Assert.DoesNotContain("Parameter Stage", log);
        Assert.DoesNotContain("Parameter ", sandbox.Output);
        Assert.DoesNotContain("[DBG]", sandbox.Output);

        Run("--target-env", "prod", "--verbosity", "verbose");

        Assert.Contains("[DBG] Parameter TargetEnv = prod (command line)", sandbox.Output);
    }

    [Fact]
    public void Bad_value_is_one_paragraph_with_parameter_value_reason_and_source()
    {
        Assert.Equal(2, sandbox.Run<Build>("Show", "--retries", "many").ExitCode);
        Assert.Contains("Invalid value 'many' for parameter --retries (command line): expected a whole number, e.g. 3.", sandbox.Output);
        Assert.Null(sandbox.Run<Build>("Show", "--retries", "many").Targets.FirstOrDefault(x => x.Status == TargetStatus.Succeeded));

        sandbox.Environment["STAGE"] = "prod";
        Assert.Equal(2, sandbox.Run<Build>("Show").ExitCode);
        Assert.Contains("Invalid value 'prod' for parameter --stage (environment variable STAGE): expected one of Local, Staging, Production.", sandbox.Output);

        sandbox.Environment.Clear();
        sandbox.Write(".nuke/parameters.json", """{ "Timeout": "soon" }""");
        Assert.Equal(2, sandbox.Run<Build>("Show").ExitCode);
        Assert.Contains("Invalid value 'soon' for parameter --timeout (.nuke/parameters.json): expected a duration as [d.]hh:mm[:ss], e.g. 00:05:00.", sandbox.Output);
    }

    [Fact]
    public void Missing_and_several_values_are_rejected()
    {
        Assert.Equal(2, sandbox.Run<Build>("Show", "--retries", "--yes").ExitCode);
        Assert.Contains("Missing value for parameter --retries (command line): expected a whole number, e.g. 3.", sandbox.Output);

        Assert.Equal(2, sandbox.Run<Build>("Show", "--retries", "1", "2").ExitCode);
        Assert.Contains("Several values '1 2' for parameter --retries (command line)", sandbox.Output);
    }

    [Fact]
    public void Unknown_command_line_parameter_suggests_the_closest()
    {
        var result = sandbox.Run<Build>("Show", "--target-evn", "prod");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Unknown parameter '--target-evn'. Did you mean --target-env?", sandbox.Output);
    }

    [Fact]
    public void Unknown_key_in_a_parameters_file_names_the_file_the_key_and_the_closest_parameter()
    {
        sandbox.Write(".nuke/parameters.json", """{ "$schema": "./build.schema.json", "TargetEnvv": "x" }""");

        Assert.Equal(2, sandbox.Run<Build>("Show").ExitCode);
        Assert.Contains("Unknown key 'TargetEnvv' in .nuke/parameters.json. Did you mean 'TargetEnv'?", sandbox.Output);

        sandbox.Write(".nuke/parameters.prod.json", """{ "Retrys": 1, "Hostnames": ["a"] }""");
        Assert.Equal(2, sandbox.Run<Build>("Show", "--profile", "prod").ExitCode);
        Assert.Contains("Unknown key 'Retrys' in .nuke/parameters.prod.json. Did you mean 'Retries'?", sandbox.Output);
        Assert.Contains("Unknown key 'Hostnames' in .nuke/parameters.prod.json. Did you mean 'Hosts'?", sandbox.Output);
    }

    [Fact]
    public void Missing_profile_is_an_error()
    {
        Assert.Equal(2, sandbox.Run<Build>("Show", "--profile", "nope").ExitCode);
        Assert.Contains("Profile file .nuke/parameters.nope.json does not exist.", sandbox.Output);
    }

    [Fact]
    public void Bad_built_in_values_are_usage_errors()
    {
        Assert.Equal(2, sandbox.Run<Build>("Show", "--verbosity", "loud").ExitCode);
        Assert.Contains("Invalid value 'loud' for parameter --verbosity (command line): expected one of Quiet, Minimal, Normal, Verbose.", sandbox.Output);
    }

    [Fact]
    public void Root_is_the_nearest_directory_with_a_nuke_directory_or_the_root_argument()
    {
        sandbox.WorkingDirectory = Directory.CreateDirectory(sandbox.PathOf("src/deep")).FullName;
        Assert.Equal(sandbox.Root, Run().RootDirectory.ToString());
        Assert.True(Directory.Exists(sandbox.PathOf(".nuke/temp")));

        var elsewhere = Directory.CreateTempSubdirectory("target-engine-root-").FullName;
        try
        {
            sandbox.WorkingDirectory = elsewhere;
            Assert.Equal(2, sandbox.Run<Build>("Show").ExitCode);
            Assert.Contains($"Could not locate '.nuke' directory while walking up from '{elsewhere}'.", sandbox.Output);
            Assert.Equal(elsewhere, Run("--root").RootDirectory.ToString());
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    public void Dispose() => sandbox.Dispose();
}
