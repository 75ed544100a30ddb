namespace Tally.Cli.Tests;

public class DemoCommandFacts
{
    [Fact]
    public async Task Demo_ExitsZero_WritesRawDataAndTheThreeTables_AndItsLastLineSaysWhereTheFilesAre()
    {
        using var temp = new TempFolder();
        var data = temp.Sub("data");

        var result = await Tally.RunAsync("demo", "--data", data, "--hours", "1", "--hits-per-hour", "2000");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(data, result.StdoutLines[^1]);
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);
        Assert.Equal(60, Directory.GetFiles(Path.Combine(data, "raw_data"), "*.json", SearchOption.AllDirectories).Length);
        Assert.Equal(
            ["hits_by_country", "hits_by_domain_and_groupid", "hits_by_useragent"],
            Directory.GetDirectories(Path.Combine(data, "aggregated_data")).Select(Path.GetFileName).Order());
    }
}
