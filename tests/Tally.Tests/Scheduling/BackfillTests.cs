using System.Collections.Concurrent;
using Tally.Scheduling;
using Tally.Synthetic;
using Tally.Tests.Workflow;
using Tally.Workflow;

namespace Tally.Tests.Scheduling;

/// <summary><see cref="Backfill"/> on a real data folder and metastore, its counts checked by DuckDB over the raw files.</summary>
public sealed class BackfillTests : IDisposable
{
    private static readonly HourWindow From = HourWindow.Parse("2026-11-01T00");
    private readonly WorkflowHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private async Task<Backfill> BackfillAsync()
    {
        var workflow = await _harness.WorkflowAsync();
        var (runs, _) = await _harness.OpenStateAsync();
        return new Backfill(workflow, new LateDataDetector(_harness.Data.Store, runs));
    }

    private async Task GenerateAsync(HourWindow first, int hours) =>
        await new RawDataGenerator(_harness.Data.Store).GenerateAsync(new GeneratorOptions(first, hours, 300, Seed: 7));

    /// <summary>Every run recorded, in order: target hour, trigger, status.</summary>
    private List<(string Hour, string Trigger, string Status)> Runs() =>
        _harness.MetastoreRows("SELECT target_hour, trigger, status FROM runs ORDER BY rowid").Select(r => (r[0], r[1], r[2])).ToList();

    private void AssertTablesMatchTheOracle(HourWindow hour)
    {
        using var oracle = new DuckDbOracle();
        foreach (var spec in AggregationSpec.Defaults)
        {
            Assert.Equal(oracle.ExpectedRows(_harness.Data.Root, hour, spec),
                oracle.FileRows(_harness.Data.PathOf(DataLayout.TableFile(spec, hour)), spec.Format).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task EveryHourOfTheRange_RunsOnce_WithTriggerBackfill_AndMatchesTheOracle()
    {
        await GenerateAsync(From, 6);
        var finished = new ConcurrentBag<HourWindow>();

        var summary = await (await BackfillAsync()).RunAsync(From, From.AddHours(6), parallel: 2, force: false,
            null, new SynchronousProgress<BackfillHour>(h => finished.Add(h.Hour)), CancellationToken.None);

        Assert.Equal(6, summary.Count(BackfillOutcome.Succeeded));
        Assert.Equal(HourWindow.Range(From, From.AddHours(6)), summary.Hours.Select(h => h.Hour)); // oldest first
        Assert.Equal(HourWindow.Range(From, From.AddHours(6)), finished.Order());
        Assert.Equal(HourWindow.Range(From, From.AddHours(6)).Select(h => (h.ToString(), "backfill", "succeeded")).Order(), Runs().Order());
        foreach (var hour in HourWindow.Range(From, From.AddHours(6))) AssertTablesMatchTheOracle(hour);
    }

    [Fact]
    public async Task ASecondBackfill_RunsOnlyTheHourWhoseInputChanged_AndForceRunsThemAll()
    {
        await GenerateAsync(From, 3);
        var backfill = await BackfillAsync();
        await backfill.RunAsync(From, From.AddHours(3), 1, false, null, null, CancellationToken.None);

        var second = await backfill.RunAsync(From, From.AddHours(3), 1, false, null, null, CancellationToken.None);
        Assert.Equal(0, second.Ran);
        Assert.Equal(3, second.Count(BackfillOutcome.UpToDate));

        var late = From.AddHours(1);
        _harness.Data.WriteRaw(late, 59, "late.json",
            """{"GroupID":9,"CountryCode":"ZZ","UserAgent":"ua","Language":"en","Domain":"late.example","Timestamp":"2026-11-01T01:59:00Z"}""" + "\n");
        var third = await backfill.RunAsync(From, From.AddHours(3), 1, false, null, null, CancellationToken.None);
        Assert.Equal([BackfillOutcome.UpToDate, BackfillOutcome.Succeeded, BackfillOutcome.UpToDate], third.Hours.Select(h => h.Outcome));
        AssertTablesMatchTheOracle(late);
        using (var oracle = new DuckDbOracle())
        {
            Assert.Contains("ZZ|1", oracle.FileRows(_harness.Data.PathOf(DataLayout.TableFile(AggregationSpec.Defaults[0], late)), AggregationSpec.Defaults[0].Format));
        }

        var forced = await backfill.RunAsync(From, From.AddHours(3), 2, true, null, null, CancellationToken.None);
        Assert.Equal(3, forced.Count(BackfillOutcome.Succeeded));
        Assert.Equal(3 + 1 + 3, Runs().Count);
    }

    [Fact]
    public async Task AFailingHour_FailsAlone_AndIsRunAgainNextTime()
    {
        await GenerateAsync(From, 3);
        var bad = From.AddHours(1);
        // 30 broken records beside the hour's 300 good ones: 9 % rejected, above the 1 % threshold.
        _harness.Data.WriteRaw(bad, 30, "bad.json", string.Concat(Enumerable.Repeat("{\"GroupID\": oops}\n", 30)));
        var backfill = await BackfillAsync();

        var summary = await backfill.RunAsync(From, From.AddHours(3), 2, false, null, null, CancellationToken.None);

        Assert.Equal([BackfillOutcome.Succeeded, BackfillOutcome.Failed, BackfillOutcome.Succeeded], summary.Hours.Select(h => h.Outcome));
        var failed = summary.Hours[1];
        Assert.Equal(RunStatus.Failed, failed.Run!.Status);
        Assert.Contains("reject", failed.Reason, StringComparison.OrdinalIgnoreCase);
        AssertTablesMatchTheOracle(From);
        AssertTablesMatchTheOracle(From.AddHours(2));

        // Only a success makes an hour up to date: the failed one is tried again.
        var again = await backfill.RunAsync(From, From.AddHours(3), 2, false, null, null, CancellationToken.None);
        Assert.Equal([BackfillOutcome.UpToDate, BackfillOutcome.Failed, BackfillOutcome.UpToDate], again.Hours.Select(h => h.Outcome));
    }

    [Fact]
    public async Task Stopping_CancelsTheRunGoingOn_StartsNoMore_AndAccountsForEveryHour()
    {
        await GenerateAsync(From, 4);
        var backfill = await BackfillAsync();
        using var stop = new CancellationTokenSource();

        // Stop as the second hour starts: the first has ended, the second is cancelled, the last two never start.
        var summary = await backfill.RunAsync(From, From.AddHours(4), 1, false,
            new SynchronousProgress<HourWindow>(h => { if (h == From.AddHours(1)) stop.Cancel(); }), null, stop.Token);

        Assert.Equal([BackfillOutcome.Succeeded, BackfillOutcome.Cancelled, BackfillOutcome.Cancelled, BackfillOutcome.Cancelled],
            summary.Hours.Select(h => h.Outcome));
        var runs = Runs();
        Assert.Contains(("2026-11-01T00", "backfill", "succeeded"), runs);
        Assert.DoesNotContain(runs, r => r.Status == "running");
        Assert.DoesNotContain(runs, r => r.Hour is "2026-11-01T02" or "2026-11-01T03");
    }

    [Fact]
    public async Task AnEmptyRange_IsRefused()
    {
        var backfill = await BackfillAsync();
        var error = await Assert.ThrowsAsync<TallyException>(() => backfill.RunAsync(From, From, 1, false, null, null, CancellationToken.None));
        Assert.Contains("no hours", error.Message, StringComparison.Ordinal);
    }
}
