using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Tally.Cli.Tests;

/// <summary>Failure events through real <c>tally</c> processes to a real HTTP receiver on 127.0.0.1.</summary>
public sealed class WebhookProcessFacts : IDisposable
{
    private const string Secret = "a-shared-secret";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "tally-webhook-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task FailureEvent_StoredWhileTheReceiverIsDown_IsDeliveredOnce_ByTheNextProcess_WithAValidSignature()
    {
        // The receiver is down: nothing listens on its port yet.
        var port = HttpReceiver.FreePort();
        WriteSettings(port);
        WriteRaw("2026-11-24T13", "not json\n{\"GroupID\": \"x\"}\n");

        var failed = await TallyProcess.Start("run", "--data", _data, "--hour", "2026-11-24T13").EndAsync();
        Assert.True(failed.ExitCode == 1, failed.ToString());
        var stored = await EventsAsync();
        var eventId = Assert.Single(stored).GetProperty("event_id").GetString()!;
        var webhook = Assert.Single(stored[0].GetProperty("deliveries").EnumerateArray(), d => d.GetProperty("sink").GetString()!.StartsWith("webhook", StringComparison.Ordinal));
        Assert.NotEqual("delivered", webhook.GetProperty("status").GetString());
        Assert.True(webhook.GetProperty("attempts").GetInt32() >= 1, webhook.ToString());

        await using var receiver = HttpReceiver.Start(port);
        // The next process delivers what is due: wait until the delivery's next attempt, as recorded, has come.
        var due = DateTimeOffset.Parse(MetastoreRows.Read(Path.Combine(_data, ".tally"),
            $"SELECT next_attempt_at FROM deliveries WHERE event_id = '{eventId}' AND sink LIKE 'webhook%'").Single()[0], System.Globalization.CultureInfo.InvariantCulture);
        for (var wait = due - DateTimeOffset.UtcNow; wait >= TimeSpan.Zero; wait = due - DateTimeOffset.UtcNow) await Task.Delay(wait + TimeSpan.FromMilliseconds(10));
        var next = await TallyProcess.Start("run", "--data", _data, "--hour", "2026-11-24T12").EndAsync();
        Assert.True(next.ExitCode == 0, next.ToString());

        var received = Assert.Single(receiver.Received);
        Assert.Equal(eventId, received.EventId);
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), received.Body));
        Assert.Equal(expected, received.Signature);
        using var body = JsonDocument.Parse(received.Body);
        Assert.Equal(eventId, body.RootElement.GetProperty("id").GetString());
        Assert.Equal("2026-11-24T13", body.RootElement.GetProperty("detail").GetProperty("target_hour").GetString());
        Assert.Equal("Tally.DataError", body.RootElement.GetProperty("detail").GetProperty("error").GetString());

        // A third process finds nothing left to deliver: still exactly one delivery, recorded as delivered.
        var third = await TallyProcess.Start("run", "--data", _data, "--hour", "2026-11-24T11").EndAsync();
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.Single(receiver.Received);
        var after = (await EventsAsync()).Single(e => e.GetProperty("event_id").GetString() == eventId);
        Assert.Equal("delivered", after.GetProperty("deliveries").EnumerateArray().Single(d => d.GetProperty("sink").GetString()!.StartsWith("webhook", StringComparison.Ordinal)).GetProperty("status").GetString());
    }

    private void WriteSettings(int port)
    {
        var state = Path.Combine(_data, ".tally");
        Directory.CreateDirectory(state);
        File.WriteAllText(Path.Combine(state, "settings.json"), $$"""
            {
              "Events": {
                "Webhook": { "Url": "http://127.0.0.1:{{port}}/events", "Secret": "{{Secret}}", "Timeout": "00:00:02" },
                "Delivery": { "InitialBackoff": "00:00:00.100", "MaxBackoff": "00:00:00.500", "WaitAfterRun": "00:00:00.500" }
              }
            }
            """);
    }

    private void WriteRaw(string hour, string content)
    {
        var h = HourWindow.Parse(hour);
        var folder = Path.Combine(_data, DataLayout.RawMinutePrefix(h, 0));
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "hits.json"), content);
    }

    private async Task<List<JsonElement>> EventsAsync()
    {
        var result = await TallyProcess.Start("events", "ls", "--data", _data, "--format", "json").EndAsync();
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().ToList();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
