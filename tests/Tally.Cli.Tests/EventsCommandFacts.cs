using System.Text.Json;

namespace Tally.Cli.Tests;

/// <summary><c>tally events ls</c> over the events of real runs.</summary>
public sealed class EventsCommandFacts
{
    private static void WriteRaw(TempFolder data, string hour, string minute, string content)
    {
        var h = HourWindow.Parse(hour);
        var folder = Path.Combine(data.Path, DataLayout.RawMinutePrefix(h, int.Parse(minute, System.Globalization.CultureInfo.InvariantCulture)));
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "hits.json"), content);
    }

    [Fact]
    public async Task EventsLs_ShowsTheHourEachEventIsAbout_AndTheStateItsRunFailedIn()
    {
        using var data = new TempFolder();
        Directory.CreateDirectory(data.Sub(".tally"));
        File.WriteAllText(Path.Combine(data.Sub(".tally"), "settings.json"), """{ "Events": { "PublishSuccess": true } }""");
        WriteRaw(data, "2026-11-24T13", "00", "not json\n{\"GroupID\": \"x\"}\n");
        WriteRaw(data, "2026-11-24T12", "05", """{"GroupID":1,"CountryCode":"DE","Timestamp":"2026-11-24T12:05:00Z"}""" + "\n");
        var failed = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T13");
        var succeeded = await Tally.RunAsync("run", "--data", data.Path, "--hour", "2026-11-24T12");
        Assert.True(failed.ExitCode == 1, failed.ToString());
        Assert.True(succeeded.ExitCode == 0, succeeded.ToString());

        var json = await Tally.RunAsync("events", "ls", "--data", data.Path, "--format", "json");
        var table = await Tally.RunAsync("events", "ls", "--data", data.Path);

        Assert.True(json.ExitCode == 0, json.ToString());
        using var events = JsonDocument.Parse(json.Stdout);
        var listed = events.RootElement.EnumerateArray()
            .Select(e => (Id: e.GetProperty("event_id").GetString()!, Hour: e.GetProperty("target_hour").GetString(), State: e.GetProperty("failed_state").GetString()))
            .OrderBy(e => e.Hour, StringComparer.Ordinal).ToList();
        Assert.Equal([("2026-11-24T12", null), ("2026-11-24T13", "AggregateHour")], listed.Select(e => (e.Hour, e.State)));
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains(table.StdoutLines, l => l.Contains("hour", StringComparison.Ordinal) && l.Contains("failed state", StringComparison.Ordinal));
        var failedRow = Assert.Single(table.StdoutLines, l => l.Contains(listed[1].Id, StringComparison.Ordinal));
        Assert.Contains("2026-11-24T13", failedRow, StringComparison.Ordinal);
        Assert.Contains("AggregateHour", failedRow, StringComparison.Ordinal);
        var succeededRow = Assert.Single(table.StdoutLines, l => l.Contains(listed[0].Id, StringComparison.Ordinal));
        Assert.Contains("2026-11-24T12", succeededRow, StringComparison.Ordinal);
        Assert.DoesNotContain("AggregateHour", succeededRow, StringComparison.Ordinal);
    }
}
