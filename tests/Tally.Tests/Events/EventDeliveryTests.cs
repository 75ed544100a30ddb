using System.Security.Cryptography;
using System.Text;
using Tally.Events;
using Tally.Tests.Workflow;
using Tally.Workflow;

namespace Tally.Tests.Events;

/// <summary>Failure events through the outbox to a real HTTP receiver, a file and a log: signed, retried, never lost, stored first.</summary>
public sealed class EventDeliveryTests : IDisposable
{
    private const string Secret = "s3cret-for-tests";
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly WorkflowHarness _h = new();
    private readonly HttpClient _http = new();

    private async Task<EventDispatcher> DispatcherAsync(Uri url)
    {
        var (_, outbox) = await _h.OpenStateAsync();
        IEventSink[] sinks = [new WebhookSink(_http, url, Secret, TimeSpan.FromSeconds(5))];
        return new EventDispatcher(outbox, sinks, _h.Settings.Events.Delivery, TimeProvider.System);
    }

    private async Task<WorkflowResult> FailingRunAsync()
    {
        _h.WriteMostlyBadHour(Hour);
        return await (await _h.WorkflowAsync(null, "webhook")).RunAsync(WorkflowContract.InputFor(Hour), RunTrigger.Schedule);
    }

    private static string Hmac(byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body));

    [Fact]
    public async Task FailingRun_DeliversExactlyOneSignedFailureEvent_ToTheReceiver()
    {
        await using var receiver = await Receiver.StartAsync();
        var run = await FailingRunAsync();

        var summary = await (await DispatcherAsync(receiver.Url)).DispatchAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal(1, summary.Delivered);
        var received = Assert.Single(receiver.Received);
        Assert.Equal(Hmac(received.Body), received.Signature);
        var envelope = EventEnvelope.Parse(Encoding.UTF8.GetString(received.Body));
        Assert.Equal("Tally aggregation failed", envelope.DetailType);
        Assert.Equal(run.Started().Run!.RunId, envelope.Detail["run_id"]!.GetValue<string>());
        Assert.Equal("Tally.DataError", envelope.Detail["error"]!.GetValue<string>());
        Assert.Equal(envelope.Id, received.EventId);
        Assert.Equal(run.Started().Event!.Body, Encoding.UTF8.GetString(received.Body)); // byte for byte what was stored

        // A later dispatch (the next process) does not deliver it again.
        await (await DispatcherAsync(receiver.Url)).DispatchAsync(TimeSpan.Zero, CancellationToken.None);
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task ReceiverDown_TheEventIsRetried_AndDeliveredOnceWhenItIsBack_AfterARestart()
    {
        var first = await Receiver.StartAsync();
        var port = first.Port;
        var url = first.Url;
        await first.StopAsync();
        await first.DisposeAsync();
        var run = await FailingRunAsync();

        // The receiver is down: every attempt within the wait fails, and each is recorded.
        var down = await (await DispatcherAsync(url)).DispatchAsync(TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.Equal(0, down.Delivered);
        Assert.True(down.PendingLeft);
        var (_, outbox) = await _h.OpenStateAsync();
        var attempts = await outbox.AttemptsAsync(run.Started().Event!.EventId, CancellationToken.None);
        Assert.True(attempts.Count >= 2, $"{attempts.Count} attempt(s)");
        Assert.All(attempts, a => Assert.Equal("failed", a.Outcome.Text()));

        // It answers 503 for a while: still not delivered.
        await using var back = await Receiver.StartAsync(port);
        back.StatusCode = 503;
        await Task.Delay(150);
        var refused = await (await DispatcherAsync(url)).DispatchAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None);
        Assert.Equal(0, refused.Delivered);
        Assert.NotEmpty(back.Received);
        Assert.Contains("503", (await outbox.DeliveriesAsync(run.Started().Event!.EventId, CancellationToken.None)).Single().LastError);

        // Back for good; a new dispatcher (a new process after a restart) delivers it, once.
        back.StatusCode = 200;
        var rejectedTries = back.Received.Count;
        var delivered = await (await DispatcherAsync(url)).DispatchAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(1, delivered.Delivered);
        Assert.False(delivered.PendingLeft);
        var accepted = back.Received.Skip(rejectedTries).ToList();
        Assert.Single(accepted);
        Assert.Equal(Hmac(accepted[0].Body), accepted[0].Signature);
        Assert.Equal("delivered", (await outbox.DeliveriesAsync(run.Started().Event!.EventId, CancellationToken.None)).Single().Status.Text());

        // Nothing was delivered that was not stored first.
        Assert.All(back.Received, r => Assert.True(EventExists(r.EventId!)));
        await (await DispatcherAsync(url)).DispatchAsync(TimeSpan.Zero, CancellationToken.None);
        Assert.Equal(rejectedTries + 1, back.Received.Count);
    }

    [Fact]
    public async Task Redeliver_SendsADeliveredEventAgain()
    {
        await using var receiver = await Receiver.StartAsync();
        var run = await FailingRunAsync();
        await (await DispatcherAsync(receiver.Url)).DispatchAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        var (_, outbox) = await _h.OpenStateAsync();

        Assert.True(await outbox.RequeueAsync(run.Started().Event!.EventId, ["webhook"], DateTimeOffset.UtcNow, TimeSpan.FromHours(1), CancellationToken.None));
        await (await DispatcherAsync(receiver.Url)).DispatchAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal(2, receiver.Received.Count);
        Assert.All(receiver.Received, r => Assert.Equal(run.Started().Event!.EventId, r.EventId));
        Assert.False(await outbox.RequeueAsync("no-such-event", ["webhook"], DateTimeOffset.UtcNow, TimeSpan.FromHours(1), CancellationToken.None));
    }

    [Fact]
    public async Task Delivery_Expires_WhenTheReceiverNeverComesBack()
    {
        _h.Settings.Events.Delivery.Expiry = TimeSpan.FromMilliseconds(150);
        var gone = await Receiver.StartAsync();
        var url = gone.Url;
        await gone.DisposeAsync();
        var run = await FailingRunAsync();

        var summary = await (await DispatcherAsync(url)).DispatchAsync(TimeSpan.FromSeconds(2), CancellationToken.None);

        Assert.Equal(1, summary.Expired);
        var (_, outbox) = await _h.OpenStateAsync();
        Assert.Equal("expired", (await outbox.DeliveriesAsync(run.Started().Event!.EventId, CancellationToken.None)).Single().Status.Text());
    }

    [Fact]
    public async Task FileAndLogSinks_WriteTheStoredEvent()
    {
        var run = await FailingRunAsync();
        var (_, outbox) = await _h.OpenStateAsync();
        await outbox.RequeueAsync(run.Started().Event!.EventId, ["file", "log"], DateTimeOffset.UtcNow, TimeSpan.FromHours(1), CancellationToken.None);
        var path = Path.Combine(_h.Data.Root, "events", "events.jsonl");
        var log = new StringWriter();
        var dispatcher = new EventDispatcher(outbox, [new FileSink(path), new LogSink(log)], _h.Settings.Events.Delivery, TimeProvider.System);

        await dispatcher.DispatchAsync(TimeSpan.FromSeconds(2), CancellationToken.None);

        Assert.Equal([run.Started().Event!.Body], File.ReadAllLines(path));
        Assert.Contains($"event {run.Started().Event!.EventId} Tally aggregation failed run {run.Started().Run!.RunId}: Tally.DataError:", log.ToString());
    }

    private bool EventExists(string eventId) =>
        MetastoreRows.Read(_h.StateDirectory, $"SELECT count(*) FROM events WHERE event_id = '{Guid.Parse(eventId)}'") is [["1"]];

    public void Dispose()
    {
        _http.Dispose();
        _h.Dispose();
    }
}
