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

        Assert.Contains(option, result.Stdout);
    }

    [Theory]
    [InlineData("aggregate")]
    [InlineData("run", "--hour")]
    [InlineData("run", "--no-such-option")]
    public async Task CommandLineMistakes_ExitWithUsage_WithoutAStackTrace(params string[] args)
    {
        var result = await Tally.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error:", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);
    }
}
