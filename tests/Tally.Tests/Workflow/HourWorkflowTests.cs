using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Tally.Engine;
using Tally.Events;
using Tally.Synthetic;
using Tally.Workflow;
using RunStatus = Tally.Workflow.RunStatus;

namespace Tally.Tests.Workflow;

/// <summary>The workflow's states: retries of transient faults, data errors, failure events, the hour's lease, abandoned runs.</summary>
public sealed class HourWorkflowTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly WorkflowHarness _h = new();

    [Fact]
    public async Task ARunWhoseLeaseIsTakenOver_Stops_WithoutWritingTheHour_AndIsRecordedAsLeaseLost()
    {
        await new RawDataGenerator(_h.Data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 1_000, Seed: 7));
        _h.Settings.Lease.Ttl = TimeSpan.FromSeconds(2);
        _h.Settings.Lease.Heartbeat = TimeSpan.FromMilliseconds(100);
        var stuck = new Scheduling.GatedStore(_h.Data.Store); // AggregateHour waits in its reads
        var workflow = await _h.WorkflowAsync(stuck);

        var running = workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual);
        var clock = Stopwatch.StartNew();
        while (stuck.Waiting == 0 && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(10);
        // Another process takes the hour over, as it would after the lease expired.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_h.StateDirectory, "metastore.db")};Pooling=False"))
        {
            connection.Open();
            using var steal = connection.CreateCommand();
            steal.CommandText = "UPDATE leases SET run_id = 'run-other', holder = 'another process'";
            Assert.Equal(1, steal.ExecuteNonQuery());
        }
        var result = await running.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(RunStatus.Failed, result.Started().Run!.Status);
        Assert.Equal("Tally.LeaseLost", result.Started().Run.Error);
        Assert.False(Directory.Exists(_h.Data.PathOf(DataLayout.AggregatedPrefix)), "a run that lost its lease wrote tables");
    }

    [Fact]
    public async Task ARunCancelledAtAnyMoment_EndsRecordedAsCancelledOrSucceeded_NeverLeftRunning_AndFreesItsLease()
    {
        await new RawDataGenerator(_h.Data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 2_000, Seed: 7));
        var workflow = await _h.WorkflowAsync();
        var (runs, _) = await _h.OpenStateAsync();

        // A stop at a spread of moments, from before the run is recorded to after its tables are written (the scheduler's
        // stop once came right after the run was recorded running, and the run stayed so until its lease expired).
        for (var i = 0; i < 60; i++)
        {
            using var cancel = new CancellationTokenSource();
            var running = Task.Run(() => workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual, cancellationToken: cancel.Token));
            Thread.SpinWait(i * i * 500);
            await cancel.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }

            var all = await runs.ListAsync(Hour, null, 100, CancellationToken.None);
            Assert.All(all, r => Assert.True(r.Status is RunStatus.Succeeded or RunStatus.Cancelled, $"stop #{i}: {r.RunId} {r.Status}"));
            Assert.Null(await runs.FindLeaseAsync(Hour, CancellationToken.None));
        }
    }

    [Fact]
    public async Task Run_RetriesTransientStorageFaults_AndSucceedsWithTheRightCounts()
    {
        await new RawDataGenerator(_h.Data.Store).GenerateAsync(new GeneratorOptions(Hour, 1, 5_000, Seed: 7));
        var flaky = new FlakyStore(_h.Data.Store, failures: 2);
        var workflow = await _h.WorkflowAsync(flaky);

        var result = await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual);

        Assert.True(result.Started().Succeeded, result.Started().Run?.Cause);
        Assert.Equal(2, flaky.Faults);
        var (runs, outbox) = await _h.OpenStateAsync();
        var steps = await runs.ListStepsAsync(result.Started().Run!.RunId, CancellationToken.None);
        Assert.Equal(
            ["ComputeTargetHour#1 succeeded", "AggregateHour#1 retrying", "AggregateHour#2 retrying", "AggregateHour#3 succeeded"],
            steps.Select(s => $"{s.State}#{s.Attempt} {s.Outcome.Text()}"));
        Assert.All(steps.Where(s => s.Outcome.Text() == "retrying"), s => Assert.Contains("Injected fault", s.Error));
        Assert.Empty(await outbox.ListAsync(null, 10, CancellationToken.None));

        // The counts are DuckDB's over the same raw files, and the catalog names this run as the writer.
        using var oracle = new DuckDbOracle();
        var spec = AggregationSpec.Defaults.Single(s => s.Format == TableFormat.Json);
        var output = result.Started().Report!.Tables.Single(t => t.Table == spec.Table);
        Assert.Equal(oracle.ExpectedRows(_h.Data.Root, Hour, spec), oracle.FileRows(_h.Data.PathOf(output.Key), spec.Format).Order(StringComparer.Ordinal));
        var stored = await runs.FindAsync(result.Started().Run.RunId, CancellationToken.None);
        Assert.Equal(RunStatus.Succeeded, stored!.Status);
        Assert.Equal(5_000, stored.Counters!.Records);
        Assert.Equal(3, stored.Counters.Attempts);
        var catalog = await Tally.Metastore.Catalog.OpenAsync(_h.StateDirectory, _h.Data.Store, new TallyOptions());
        var partitions = await catalog.ListPartitionsAsync("demo-aggregated-data", spec.Table);
        Assert.Equal(result.Started().Run.RunId, Assert.Single(partitions).RunId);
    }

    [Fact]
    public async Task Run_FailsAfterTheLastAttempt_WhenStorageKeepsFailing()
    {
        _h.Settings.Retry.MaxAttempts = 2;
        var workflow = await _h.WorkflowAsync(new FlakyStore(_h.Data.Store, failures: 100), "file");

        var result = await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Schedule);

        Assert.Equal(RunStatus.Failed, result.Started().Run!.Status);
        Assert.Equal("Tally.Transient", result.Started().Run.Error);
        Assert.Contains("after 2 attempts", result.Started().Run.Cause);
        var detail = EventEnvelope.Parse(result.Started().Event!.Body).Detail;
        Assert.Equal("Tally.Transient", detail["error"]!.GetValue<string>());
        Assert.Equal("schedule", detail["trigger"]!.GetValue<string>());
    }

    [Fact]
    public async Task Run_FailsAtOnce_OnADataError_WithTheReasonInTheRunRecordAndTheEvent()
    {
        _h.WriteMostlyBadHour(Hour);
        var workflow = await _h.WorkflowAsync(null, "webhook", "file");

        var result = await workflow.RunAsync("""{"target_datetime": "2026-11-24T14:00:00Z"}""", RunTrigger.Manual);

        var run = result.Started().Run!;
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal("AggregateHour", run.FailedState);
        Assert.Equal("Tally.DataError", run.Error);
        Assert.Contains("2 of 4 records (50.00 %) were rejected", run.Cause);
        var (runs, outbox) = await _h.OpenStateAsync();
        var steps = await runs.ListStepsAsync(run.RunId, CancellationToken.None);
        Assert.Equal(
            ["ComputeTargetHour#1 succeeded", "AggregateHour#1 failed", "FormatFailure#1 succeeded", "PublishFailureEvent#1 succeeded"],
            steps.Select(s => $"{s.State}#{s.Attempt} {s.Outcome.Text()}"));
        Assert.Equal(run.Cause, (await runs.FindAsync(run.RunId, CancellationToken.None))!.Cause);

        var stored = Assert.Single(await outbox.ListAsync(run.RunId, 10, CancellationToken.None));
        var envelope = EventEnvelope.Parse(stored.Body);
        Assert.Equal(("0", "tally.pipeline", "Tally aggregation failed"), (envelope.Version, envelope.EventSource, envelope.DetailType));
        Assert.True(Guid.TryParse(envelope.Id, out _));
        Assert.True(DateTimeOffset.TryParseExact(envelope.Time, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _));
        Assert.Equal("2026-11-24T13", envelope.Detail["target_hour"]!.GetValue<string>());
        Assert.Equal(run.RunId, envelope.Detail["run_id"]!.GetValue<string>());
        Assert.Equal("AggregateHour", envelope.Detail["failed_state"]!.GetValue<string>());
        Assert.Equal("Tally.DataError", envelope.Detail["error"]!.GetValue<string>());
        Assert.Equal(run.Cause, envelope.Detail["cause"]!.GetValue<string>());
        Assert.Equal(2, envelope.Detail["counters"]!["rejected"]!.GetValue<long>());
        Assert.Equal("2026-11-24T14:00:00Z", envelope.Detail["input"]!["target_datetime"]!.GetValue<string>());
        Assert.Equal(["file", "webhook"], (await outbox.DeliveriesAsync(stored.EventId, CancellationToken.None)).Select(d => d.Sink));
        Assert.All(await outbox.DeliveriesAsync(stored.EventId, CancellationToken.None), d => Assert.Equal("pending", d.Status.Text()));
    }

    [Fact]
    public async Task Run_PublishesASuccessEvent_OnlyWhenConfigured()
    {
        var quiet = await (await _h.WorkflowAsync(null, "file")).RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual);
        _h.Settings.Events.PublishSuccess = true;
        var loud = await (await _h.WorkflowAsync(null, "file")).RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Backfill);

        Assert.Null(quiet.Started().Event);
        Assert.Equal("Tally aggregation succeeded", EventEnvelope.Parse(loud.Started().Event!.Body).DetailType);
        Assert.Equal("succeeded", EventEnvelope.Parse(loud.Started().Event!.Body).Detail["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Run_ReportsTheHolder_WhenALiveRunHoldsTheHour_AndRunsOnceItIsReleased()
    {
        var (runs, _) = await _h.OpenStateAsync();
        var now = DateTimeOffset.UtcNow;
        var holder = new RunRecord
        {
            RunId = "run-holder", TargetHour = Hour, Trigger = RunTrigger.Manual, Input = WorkflowContract.InputFor(Hour), Status = RunStatus.Running,
            Holder = $"run-holder pid {Environment.ProcessId} on {Environment.MachineName}", StartedAt = now,
        };
        holder = (await runs.TryStartAsync(holder, TimeProvider.System, TimeSpan.FromMinutes(1), CancellationToken.None)).Started!;
        var workflow = await _h.WorkflowAsync();

        var clock = Stopwatch.StartNew();
        var blocked = await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual, TimeSpan.FromMilliseconds(300));

        Assert.Equal("run-holder", blocked.Held().HeldBy.RunId);
        Assert.InRange(clock.ElapsedMilliseconds, 250, 10_000);
        Assert.Equal(["run-holder"], (await runs.ListAsync(Hour, null, 10, CancellationToken.None)).Select(r => r.RunId));

        await runs.FinishAsync(holder with { Status = RunStatus.Succeeded, EndedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        var after = await workflow.RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual);
        Assert.True(after.Started().Succeeded);
    }

    [Fact]
    public async Task Start_MarksARunAbandoned_WhenItsProcessIsGone()
    {
        var (runs, _) = await _h.OpenStateAsync();
        var deadPid = DeadProcessId();
        var now = DateTimeOffset.UtcNow;
        var dead = new RunRecord
        {
            RunId = "run-dead", TargetHour = Hour, Trigger = RunTrigger.Manual, Input = WorkflowContract.InputFor(Hour), Status = RunStatus.Running,
            Holder = "run-dead", StartedAt = now,
        };
        Assert.NotNull((await runs.TryStartAsync(dead, TimeProvider.System, TimeSpan.FromMinutes(5), CancellationToken.None)).Started);
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_h.StateDirectory, "metastore.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"UPDATE leases SET pid = {deadPid}";
            command.ExecuteNonQuery();
        }

        var result = await (await _h.WorkflowAsync()).RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Manual);

        Assert.True(result.Started().Succeeded);
        var abandoned = await runs.FindAsync("run-dead", CancellationToken.None);
        Assert.Equal(RunStatus.Abandoned, abandoned!.Status);
        Assert.NotNull(abandoned.EndedAt);
        Assert.Contains("detected at", abandoned.Cause);
    }

    [Fact]
    public async Task MarkAbandoned_TakesARunWhoseLeaseExpired_OnAnotherHost()
    {
        var (runs, _) = await _h.OpenStateAsync();
        var then = new FixedTime(DateTimeOffset.UtcNow.AddMinutes(-10));
        var old = new RunRecord
        {
            RunId = "run-old", TargetHour = Hour, Trigger = RunTrigger.Manual, Input = WorkflowContract.InputFor(Hour), Status = RunStatus.Running,
            Holder = "run-old", StartedAt = default,
        };
        await runs.TryStartAsync(old, then, TimeSpan.FromSeconds(30), CancellationToken.None);
        var live = old with { RunId = "run-live", TargetHour = Hour.AddHours(1) };
        await runs.TryStartAsync(live, TimeProvider.System, TimeSpan.FromMinutes(1), CancellationToken.None);

        var marked = await runs.MarkAbandonedAsync(DateTimeOffset.UtcNow, CancellationToken.None);

        Assert.Equal(["run-old"], marked);
        Assert.Equal(RunStatus.Running, (await runs.FindAsync("run-live", CancellationToken.None))!.Status);
        Assert.Null(await runs.FindLeaseAsync(Hour, CancellationToken.None));
    }

    [Theory]
    [InlineData("""{"target_datetime": "2026-11-24T00:30:00Z"}""", "2026-11-23T23")]     // day boundary
    [InlineData("""{"target_datetime": "2026-12-01T00:00:00Z"}""", "2026-11-30T23")]     // month boundary
    [InlineData("""{"target_datetime": "2027-01-01T00:59:59Z"}""", "2026-12-31T23")]     // year end
    [InlineData("""{"target_datetime": "2024-03-01T00:15:00Z"}""", "2024-02-29T23")]     // leap day
    [InlineData("""{"target_datetime": "2025-03-01T00:15:00Z"}""", "2025-02-28T23")]     // not a leap year
    [InlineData("""{"target_datetime": "2000-03-01T00:00:00Z"}""", "2000-02-29T23")]     // divisible by 400: leap
    [InlineData("""{"target_datetime": "2100-03-01T00:00:00Z"}""", "2100-02-28T23")]     // divisible by 100: not leap
    [InlineData("""{"target_datetime": "2027-01-01T00:30:00+01:00"}""", "2026-12-31T22")] // an offset, converted to UTC first
    public async Task Run_ProcessesThePrecedingHour(string input, string expected)
    {
        var result = await (await _h.WorkflowAsync()).RunAsync(input, RunTrigger.Manual);

        Assert.Equal(expected, WorkflowContract.TargetHour(input).ToString());
        Assert.Equal(expected, result.Started().Run!.TargetHour.ToString());
        Assert.Equal(expected, result.Started().Report!.TargetHour);
        Assert.Equal(input, result.Started().Run.Input);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static int DeadProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    public void Dispose() => _h.Dispose();
}
