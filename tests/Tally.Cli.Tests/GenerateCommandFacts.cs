namespace Tally.Cli.Tests;

public class GenerateCommandFacts
{
    private static async Task<Dictionary<string, byte[]>> GenerateAsync(string data, int seed)
    {
        var result = await Tally.RunAsync("generate", "--data", data, "--hour", "2026-11-24T13", "--hits-per-hour", "600", "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(result.ExitCode == 0, result.ToString());
        return Directory.GetFiles(data, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(data, f).Replace('\\', '/'), File.ReadAllBytes);
    }

    [Fact]
    public async Task Generate_WritesOneFilePerMinute_UnderTheRawLayout()
    {
        using var temp = new TempFolder();

        var files = await GenerateAsync(temp.Sub("a"), 42);

        Assert.Equal(60, files.Count);
        Assert.Contains("raw_data/year=2026/month=11/day=24/hour=13/minute=00/part-0000.json", files.Keys);
        Assert.Contains("raw_data/year=2026/month=11/day=24/hour=13/minute=59/part-0000.json", files.Keys);
        Assert.Equal(600, files.Values.Sum(bytes => bytes.Count(b => b == (byte)'\n')));
    }

    [Fact]
    public async Task Generate_WritesTheSameBytes_ForTheSameSeed()
    {
        using var temp = new TempFolder();

        var first = await GenerateAsync(temp.Sub("a"), 42);
        var second = await GenerateAsync(temp.Sub("b"), 42);

        Assert.Equal(first.Keys.Order(), second.Keys.Order());
        foreach (var (key, bytes) in first) Assert.True(bytes.AsSpan().SequenceEqual(second[key]), $"{key} differs");
    }

    [Fact]
    public async Task Generate_WritesDifferentBytes_ForADifferentSeed()
    {
        using var temp = new TempFolder();

        var first = await GenerateAsync(temp.Sub("a"), 42);
        var second = await GenerateAsync(temp.Sub("b"), 43);

        Assert.Equal(first.Keys.Order(), second.Keys.Order());
        Assert.Contains(first, pair => !pair.Value.AsSpan().SequenceEqual(second[pair.Key]));
    }

    [Theory]
    [InlineData("--hour", "2026-11-24T13:30")]
    [InlineData("--hours", "0")]
    [InlineData("--hits-per-hour", "-1")]
    [InlineData("--files-per-minute", "0")]
    public async Task Generate_ExitsWithUsage_ForAnOutOfRangeValue(string option, string value)
    {
        using var temp = new TempFolder();
        string[] args = option == "--hour"
            ? ["generate", "--data", temp.Path, "--hour", value]
            : ["generate", "--data", temp.Path, "--hour", "2026-11-24T13", option, value];

        var result = await Tally.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("error: ", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "raw_data")));
    }

    [Fact]
    public async Task Generate_ExitsWithUsage_WithoutAnHour()
    {
        using var temp = new TempFolder();

        var result = await Tally.RunAsync("generate", "--data", temp.Path);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--hour is required", result.StderrText);
    }
}
