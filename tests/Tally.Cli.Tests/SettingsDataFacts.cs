using System.Text.Json;

namespace Tally.Cli.Tests;

/// <summary>The data location and the S3 connection can come from the settings file instead of the command line.</summary>
public sealed class SettingsDataFacts : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "tally-settings-" + Guid.NewGuid().ToString("N")[..8]);

    public SettingsDataFacts() => Directory.CreateDirectory(_root);

    [Fact]
    public async Task Run_UsesTheDataFolderNamedInTheSettingsFile_WhenDataIsNotGiven()
    {
        var data = Path.Combine(_root, "data");
        var settings = Path.Combine(_root, "tally.json");
        File.WriteAllText(settings, JsonSerializer.Serialize(new { Data = data }));

        var generated = await TallyProcess.Start("generate", "--settings", settings, "--hour", "2026-11-24T13", "--hits-per-hour", "600").EndAsync();
        var run = await TallyProcess.Start("run", "--settings", settings, "--hour", "2026-11-24T13", "--format", "json").EndAsync();

        Assert.True(generated.ExitCode == 0, generated.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        using var report = JsonDocument.Parse(run.Stdout);
        Assert.Equal(600, report.RootElement.GetProperty("records").GetInt64());
        Assert.True(File.Exists(Path.Combine(data, "aggregated_data", "hits_by_country", "year=2026", "month=11", "day=24", "hour=13", "part-00000.parquet")));
        Assert.False(Directory.Exists(Path.Combine(Directory.GetCurrentDirectory(), "tally-data", "raw_data", "year=2026", "month=11", "day=24", "hour=13")) &&
            File.GetLastWriteTimeUtc(Path.Combine(Directory.GetCurrentDirectory(), "tally-data")) > DateTime.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task Run_ConnectsToTheS3EndpointNamedInTheSettingsFile()
    {
        // Nothing listens on this port, so the run must fail, naming the endpoint it was told to use.
        var port = HttpReceiver.FreePort();
        var settings = Path.Combine(_root, "tally.json");
        File.WriteAllText(settings, $$"""
            { "Data": "s3://tally-settings-test/prefix", "S3": { "Endpoint": "http://127.0.0.1:{{port}}", "Region": "us-east-1" } }
            """);

        (string, string)[] dummyCredentials = [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")];
        var run = await TallyProcess.Start(dummyCredentials, "run", "--settings", settings, "--state", Path.Combine(_root, "state"), "--hour", "2026-11-24T13").EndAsync();

        Assert.True(run.ExitCode == 4, run.ToString()); // storage could not be reached: retrying later may help
        Assert.Contains($"127.0.0.1:{port}", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public async Task Run_ConnectsToTheS3EndpointOfTheTallyS3Variables_TheSameKeysAsTheFile()
    {
        var port = HttpReceiver.FreePort();
        (string, string)[] environment =
        [
            ("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
            ("TALLY_S3__Endpoint", $"http://127.0.0.1:{port}"), ("TALLY_S3__MaxAttempts", "1"),
        ];

        var run = await TallyProcess.Start(environment, "run", "--data", "s3://tally-settings-test/prefix", "--state", Path.Combine(_root, "state"),
            "--hour", "2026-11-24T13").EndAsync();

        Assert.True(run.ExitCode == 4, run.ToString());
        Assert.Contains($"127.0.0.1:{port}", run.Stderr);
    }

    [Theory]
    [InlineData("TALLY_S3_ENDPOINT", "http://127.0.0.1:9000", "TALLY_S3__Endpoint")]
    [InlineData("TALLY_S3_PATH_STYLE", "true", "TALLY_S3__PathStyle")]
    public async Task AnS3VariableOfTheOldSpelling_StopsTheCommand_NamingTheVariableToSet(string old, string value, string renamed)
    {
        var run = await TallyProcess.Start([(old, value)], "run", "--data", Path.Combine(_root, "data"), "--hour", "2026-11-24T13").EndAsync();

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains($"{old} is set, but Tally no longer reads it", run.Stderr);
        Assert.Contains($"set {renamed} instead", run.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_root, "data", ".tally")), "nothing is done before the settings are checked");
    }

    [Fact]
    public async Task ASettingsFileBreakingRulesOfSeveralSections_IsRefusedBeforeAnythingRuns_NamingEachKey()
    {
        var settings = Path.Combine(_root, "tally.json");
        File.WriteAllText(settings, """{ "Retry": { "MaxAttempts": 0 }, "Events": { "Delivery": { "ClaimTime": "00:00:00" } }, "Query": { "MaxRows": 0 } }""");

        var run = await TallyProcess.Start("run", "--settings", settings, "--data", Path.Combine(_root, "data"), "--hour", "2026-11-24T13").EndAsync();

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("Retry:MaxAttempts must be 1 or more. Events:Delivery:ClaimTime must be positive. Query:MaxRows must be 1 or more.", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_root, "data", ".tally")), "nothing is done before the settings are checked");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
