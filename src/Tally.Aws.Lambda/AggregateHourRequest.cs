using System.Text.Json;

namespace Tally.Aws.Lambda;

/// <summary>
/// What the state machine's AggregateHour step passes the function: the hour, and the declaration as the Glue job gets it
/// (<c>--specs</c>, <c>--source</c>, <c>--max_rejected_share</c>), so both engines compute the same tables by the same rules:
/// <c>{"target_hour": "2026-11-24T13", "specs": "&lt;AggregationSpec.ToJson&gt;", "source": "&lt;SourceSchema.ToJson&gt;",
/// "rejected_threshold": 0.01}</c>. <c>source</c> is absent for the seed's record; <c>rejected_threshold</c> defaults to
/// <c>tally run</c>'s (<see cref="TallyOptions.RejectedThreshold"/>). Other keys are ignored.
/// </summary>
/// <param name="Hour">The UTC hour to aggregate.</param>
/// <param name="Options">The engine's options: the declared source and tables and the rejected threshold, validated.</param>
internal sealed record AggregateHourRequest(HourWindow Hour, TallyOptions Options)
{
    /// <exception cref="TallyException">
    /// InvalidArgument when the text is not such a JSON object or the hour is not one; InvalidConfiguration when the
    /// declaration or the threshold is not valid.
    /// </exception>
    public static AggregateHourRequest Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw TallyException.InvalidArgument($"The AggregateHour input is not valid JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid("must be a JSON object");
            var hour = HourWindow.Parse(String(root, "target_hour") ?? throw Invalid("needs a string \"target_hour\""));
            var specs = String(root, "specs") ?? throw Invalid("needs the aggregation specs as a JSON string \"specs\" (AggregationSpec.ToJson)");
            var source = String(root, "source") is { } text ? SourceSchema.ParseJson(text) : SourceSchema.Seed;
            var options = new TallyOptions
            {
                Source = source,
                Aggregations = AggregationSpec.ParseJson(specs, source),
                RejectedThreshold = root.TryGetProperty("rejected_threshold", out var threshold)
                    ? threshold.ValueKind == JsonValueKind.Number ? threshold.GetDouble() : throw Invalid("has a \"rejected_threshold\" that is not a number")
                    : new TallyOptions().RejectedThreshold,
            };
            options.Validate();
            return new AggregateHourRequest(hour, options);
        }
    }

    private static string? String(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw Invalid($"has a \"{name}\" that is not a string");

    private static TallyException Invalid(string what) =>
        TallyException.InvalidArgument($"The AggregateHour input {what}, for example {{\"target_hour\": \"2026-11-24T13\", \"specs\": \"[...]\"}}.");
}
