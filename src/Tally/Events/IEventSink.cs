using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tally.Events;

/// <summary>A stored event ready for delivery: its id and the exact JSON body.</summary>
public sealed record StoredEvent(string EventId, string? RunId, string DetailType, DateTimeOffset CreatedAt, string Body)
{
    /// <summary>The hour the event is about (<c>detail.target_hour</c>), or null when its body names none.</summary>
    public HourWindow? TargetHour => DetailText("target_hour") is { } text && HourWindow.TryParse(text, out var hour) ? hour : null;

    /// <summary>The state its run failed in (<c>detail.failed_state</c>, e.g. AggregateHour), or null: a success, or a body without one.</summary>
    public string? FailedState => DetailText("failed_state");

    private string? DetailText(string name)
    {
        try
        {
            return JsonNode.Parse(Body)?["detail"]?[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Where events are delivered. A delivery either completes or throws; the dispatcher retries what threw.</summary>
public interface IEventSink
{
    /// <summary>The sink's name in the outbox: <c>webhook</c>, <c>file</c> or <c>log</c>.</summary>
    string Name { get; }

    /// <summary>Delivers one event.</summary>
    /// <exception cref="Exception">Any failure; the delivery is then retried later.</exception>
    Task DeliverAsync(StoredEvent stored, CancellationToken cancellationToken);
}

/// <summary>
/// POSTs the event's JSON to a URL with <c>X-Tally-Signature: sha256=&lt;hex&gt;</c>, the HMAC-SHA256 of the exact body
/// bytes keyed with the configured secret, and <c>X-Tally-Event-Id</c>. Any 2xx answer is a delivery; anything else, a
/// timeout or a connection failure is not.
/// </summary>
internal sealed class WebhookSink(HttpClient http, Uri url, string secret, TimeSpan timeout) : IEventSink
{
    public const string SignatureHeader = "X-Tally-Signature";
    public const string EventIdHeader = "X-Tally-Event-Id";

    public string Name => "webhook";

    public async Task DeliverAsync(StoredEvent stored, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(stored.Body);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(SignatureHeader, Signature(secret, body));
        request.Headers.Add(EventIdHeader, stored.EventId);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{url} did not answer within {timeout.TotalSeconds:0.###} s.");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
    }

    /// <summary>The header value for <paramref name="body"/>: <c>sha256=</c> and the lower-case hex HMAC-SHA256.</summary>
    public static string Signature(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}

/// <summary>Appends each event as one JSON line to a file and flushes it to disk before the delivery counts.</summary>
internal sealed class FileSink(string path) : IEventSink
{
    public string Name => "file";

    public async Task DeliverAsync(StoredEvent stored, CancellationToken cancellationToken)
    {
        if (Path.GetDirectoryName(path) is { Length: > 0 } folder) Directory.CreateDirectory(folder);
        var line = Encoding.UTF8.GetBytes(stored.Body + "\n");
        await using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 4096, FileOptions.Asynchronous);
        await file.WriteAsync(line, cancellationToken).ConfigureAwait(false);
        file.Flush(flushToDisk: true);
    }
}

/// <summary>Writes one line per event (id, detail-type, run, and the detail's error) to a text writer, stderr by default.</summary>
internal sealed class LogSink(TextWriter writer) : IEventSink
{
    public string Name => "log";

    public async Task DeliverAsync(StoredEvent stored, CancellationToken cancellationToken)
    {
        var detail = EventEnvelope.Parse(stored.Body).Detail;
        var error = detail["error"]?.GetValue<string>();
        await writer.WriteLineAsync($"event {stored.EventId} {stored.DetailType} run {stored.RunId}{(error is null ? "" : $": {error}: {detail["cause"]?.GetValue<string>()}")}")
            .ConfigureAwait(false);
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The sinks the settings configure.</summary>
public static class EventSinks
{
    /// <summary>The configured sinks: webhook when a URL is set, file when a path is set, log when enabled.</summary>
    public static IReadOnlyList<IEventSink> FromSettings(EventSettings settings, string stateDirectory, HttpClient http, TextWriter log)
    {
        var sinks = new List<IEventSink>();
        if (settings.Webhook.Url is { Length: > 0 } url)
        {
            sinks.Add(new WebhookSink(http, new Uri(url), settings.Webhook.Secret ?? "", settings.Webhook.Timeout));
        }
        if (settings.File.Path is { Length: > 0 } path) sinks.Add(new FileSink(Path.GetFullPath(Path.Combine(stateDirectory, path))));
        if (settings.Log.Enabled) sinks.Add(new LogSink(log));
        return sinks;
    }
}
