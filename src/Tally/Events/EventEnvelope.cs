using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Tally.Events;

/// <summary>
/// An event in the Amazon EventBridge envelope, as the AWS side of Tally publishes it to its bus: <c>source</c>
/// <c>tally.pipeline</c>, <c>detail-type</c> <c>Tally aggregation failed</c> (or <c>… succeeded</c>), and a <c>detail</c>
/// whose <c>error</c>, <c>cause</c>, <c>execution</c>, <c>state_machine</c> and <c>input</c> keys are those of the Step
/// Functions failure path; the local workflow adds <c>target_hour</c>, <c>run_id</c>, <c>failed_state</c>, <c>status</c>
/// and <c>counters</c>.
/// </summary>
internal sealed record EventEnvelope
{
    [JsonPropertyName("version")] public string Version { get; init; } = "0";
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("detail-type")] public required string DetailType { get; init; }
    [JsonPropertyName("source")] public string EventSource { get; init; } = WorkflowContract.Events.Source;
    [JsonPropertyName("account")] public required string Account { get; init; }
    /// <summary>When the event was created, UTC, ISO-8601 to the second (<c>2026-11-24T14:00:05Z</c>), as EventBridge writes it.</summary>
    [JsonPropertyName("time")] public required string Time { get; init; }
    [JsonPropertyName("region")] public required string Region { get; init; }
    [JsonPropertyName("resources")] public IReadOnlyList<string> Resources { get; init; } = [];
    [JsonPropertyName("detail")] public required JsonObject Detail { get; init; }

    /// <summary>A new envelope with a fresh id.</summary>
    public static EventEnvelope Create(string detailType, JsonObject detail, string account, string region, DateTimeOffset now) => new()
    {
        Id = Guid.NewGuid().ToString(),
        DetailType = detailType,
        Account = account,
        Region = region,
        Time = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        Detail = detail,
    };

    /// <summary>The JSON delivered to every sink, on one line (what is stored, signed and posted, byte for byte).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json.EventEnvelope);

    public static EventEnvelope Parse(string json) =>
        JsonSerializer.Deserialize(json, Json.EventEnvelope) ?? throw new JsonException("The event is null.");

    /// <summary>The envelope's JSON, written by code generated at build time (no reflection), non-ASCII text as it is.</summary>
    private static readonly EventEnvelopeJson Json = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}

[JsonSerializable(typeof(EventEnvelope))]
internal sealed partial class EventEnvelopeJson : JsonSerializerContext;
