using Tally.Events;
using Tally.Metastore;
using Tally.State;
using Tally.Tests.Workflow;
using Tally.Workflow;

namespace Tally.Tests.State;

/// <summary>
/// Metastore files written by earlier versions of Tally open, migrate forward and keep what they hold.
/// <c>Fixtures/metastore-before-state.db</c> is a real file written by <c>tally run</c> before the State part existed
/// (catalog at user_version 1, workflow tables unversioned beside it): hour 2026-11-24T13 succeeded, hour
/// 2026-11-24T14 failed with too many rejected records and published a failure event, delivered to a file sink.
/// </summary>
public sealed class MigrationTests : IDisposable
{
    private readonly WorkflowHarness _harness = new();

    public MigrationTests()
    {
        Directory.CreateDirectory(_harness.StateDirectory);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "State", "Fixtures", "metastore-before-state.db"),
            Path.Combine(_harness.StateDirectory, "metastore.db"));
    }

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Open_MigratesAMetastoreOfTheVersionBefore_ToTheCurrentSchemaVersion()
    {
        Assert.Equal("1", _harness.MetastoreRows("PRAGMA user_version").Single()[0]);
        await StateDatabase.OpenAsync(_harness.StateDirectory, CancellationToken.None);
        Assert.Equal("2", _harness.MetastoreRows("PRAGMA user_version").Single()[0]);
    }

    [Fact]
    public async Task Open_KeepsTheRunsStepsEventsAndDeliveriesOfTheVersionBefore()
    {
        var (runs, outbox) = await _harness.OpenStateAsync();

        var recorded = await runs.ListAsync(null, null, 10, CancellationToken.None);
        Assert.Equal(["2026-11-24T14 failed Tally.DataError", "2026-11-24T13 succeeded "],
            recorded.Select(r => $"{r.TargetHour} {r.Status.Text()} {r.Error}"));
        Assert.All(recorded, r => Assert.Equal(RunTrigger.Manual, r.Trigger));
        var failed = recorded[0];
        Assert.Equal(["ComputeTargetHour succeeded", "AggregateHour failed", "FormatFailure succeeded", "PublishFailureEvent succeeded"],
            (await runs.ListStepsAsync(failed.RunId, CancellationToken.None)).Select(s => $"{s.State} {s.Outcome.Text()}"));

        var events = await outbox.ListAsync(failed.RunId, 10, CancellationToken.None);
        Assert.Equal("Tally aggregation failed", Assert.Single(events).DetailType);
        var delivery = Assert.Single(await outbox.DeliveriesAsync(events[0].EventId, CancellationToken.None));
        Assert.Equal(("file", "delivered"), (delivery.Sink, delivery.Status.Text()));
    }

    [Fact]
    public async Task Open_KeepsThePartitionsOfTheVersionBefore()
    {
        var catalog = await Catalog.OpenAsync(_harness.StateDirectory, _harness.Data.Store, _harness.Settings.ToOptions());

        foreach (var table in new[] { "hits_by_country", "hits_by_domain_and_groupid", "hits_by_useragent" })
        {
            var partition = Assert.Single(await catalog.ListPartitionsAsync("demo-aggregated-data", table));
            Assert.Equal(["2026", "11", "24", "13"], partition.Values);
        }
        Assert.Equal(60, (await catalog.ListPartitionsAsync("demo-raw-data", "raw_data")).Count);
    }

    [Fact]
    public async Task Run_OnAMigratedMetastore_RecordsBesideTheRunsOfTheVersionBefore()
    {
        var hour = HourWindow.Parse("2026-11-24T15");
        _harness.Data.WriteRaw(hour, 0, "a.json", """{"GroupID":1,"CountryCode":"DE","Domain":"example.com","Timestamp":"2026-11-24T15:00:01Z"}""" + "\n");
        var workflow = await _harness.WorkflowAsync();

        var result = await workflow.RunAsync(WorkflowContract.InputFor(hour), RunTrigger.Manual);

        Assert.True(result.Started().Succeeded);
        var (runs, _) = await _harness.OpenStateAsync();
        Assert.Equal(["2026-11-24T15", "2026-11-24T14", "2026-11-24T13"],
            (await runs.ListAsync(null, null, 10, CancellationToken.None)).Select(r => r.TargetHour.ToString()));
    }
}
