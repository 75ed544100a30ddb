using System.Text.Json;
using System.Text.Json.Nodes;
using Tally.Configuration;
using Tally.Engine;
using Tally.Metastore;
using Tally.Storage;

namespace Tally.Dashboard.Tests;

[CollectionDefinition(Name)]
public sealed class DeclaredDashboardCollection : ICollectionFixture<DeclaredDashboardFixture>
{
    public const string Name = "declared dashboard";
}

/// <summary>
/// <c>tally serve</c> over a data folder whose settings declare another source and other tables (<see cref="DeclaredSource"/>):
/// <see cref="BusyHour"/> and <see cref="LastHour"/> have raw records and tables, <see cref="EmptyHour"/> was processed
/// with no records. The tables stand in for the engine's (made by DuckDB from the raw files) and are registered in the
/// catalog as a run would. The schedule's next tick is years away, so nothing runs. Also a Chromium.
/// </summary>
public sealed class DeclaredDashboardFixture() : ServeFixture("tally-dash-declared-", "dashboard-screenshots-declared")
{
    public const int BusyRecords = 500;
    public const int LastRecords = 400;

    public HourWindow BusyHour { get; private set; }
    public HourWindow EmptyHour { get; private set; }
    public HourWindow LastHour { get; private set; }
    public override async Task InitializeAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var toNextHour = HourWindow.Containing(now).End - now;
        if (toNextHour < TimeSpan.FromSeconds(60)) await Task.Delay(toNextHour + TimeSpan.FromSeconds(2));
        var current = HourWindow.Containing(DateTimeOffset.UtcNow);
        (BusyHour, EmptyHour, LastHour) = (current.AddHours(-3), current.AddHours(-2), current.AddHours(-1));

        var state = Path.Combine(Data, ".tally");
        Directory.CreateDirectory(state);
        var settings = JsonNode.Parse(DeclaredSource.Settings)!;
        settings["Schedule"] = new JsonObject { ["Cron"] = "0 0 29 2 *" };
        File.WriteAllText(Path.Combine(state, TallySettings.FileName), settings.ToJsonString());
        DeclaredSource.WriteRaw(Data, BusyHour, BusyRecords, seed: 21);
        DeclaredSource.WriteRaw(Data, LastHour, LastRecords, seed: 22);
        var catalog = await Catalog.OpenAsync(state, new LocalObjectStore(Data), TallySettings.Load(state).ToOptions());
        foreach (var hour in new[] { BusyHour, EmptyHour, LastHour })
        {
            var report = new RunReport { TargetHour = hour.ToString(), Status = RunStatus.Succeeded, Tables = DeclaredSource.WriteTables(Data, hour), InputFingerprint = "sha256:test" };
            await catalog.RecordRunAsync(report, Catalog.NewRunId(TimeProvider.System));
        }

        await StartServeAsync("serve", "--data", Data, "--port", "0");
        await LaunchBrowserAsync();
    }
}
