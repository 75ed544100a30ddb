namespace Tally.Cli.Tests;

public class HelpFacts
{
    [Theory]
    [InlineData("demo")]
    [InlineData("generate")]
    [InlineData("run")]
    [InlineData("serve")]
    [InlineData("backfill")]
    public async Task Help_ExitsZero_AndShowsAnExample(string command)
    {
        var result = await Tally.RunAsync(command, "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("EXAMPLES:", result.Stdout);
        Assert.Contains(result.StdoutLines, line => line.Trim() == $"tally {command}" || line.Trim().StartsWith($"tally {command} --", StringComparison.Ordinal));
        Assert.Empty(result.Stderr);
    }

    [Theory]
    [InlineData("--hour")]
    [InlineData("--input")]
    [InlineData("--format")]
    [InlineData("--threshold")]
    [InlineData("--data")]
    public async Task RunHelp_DescribesEachOption(string option)
    {
        var result = await Tally.RunAsync("run", "--help");

        // In the OPTIONS section (the examples above it name some options too), with a description after it.
        var options = result.StdoutLines.SkipWhile(l => l.Trim() != "OPTIONS:").Skip(1).ToList();
        Assert.Contains(options, l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal) && l.Trim().Length > option.Length + 20);
    }

    [Theory]
    [InlineData("aggregate")]
    [InlineData("run", "--hour")]
    [InlineData("run", "--hour", "2026-11-24T13", "--no-such-option")]
    [InlineData("catalog", "sync", "--format", "json")]
    [InlineData("events", "redeliver", "0f8fad5b-d9cb-469f-a165-70867728950e", "--format", "json")]
    public async Task CommandLineMistakes_ExitWithUsage_WithoutAStackTrace(params string[] args)
    {
        var result = await Tally.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error:", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);
    }
}
