using System.Globalization;
using System.Text.Json;

namespace Tally.Aws.Lambda;

/// <summary>
/// The state machine's ComputeTargetHour step: reads the seed's input <c>{"target_datetime": "&lt;scheduled time&gt;"}</c>
/// and answers the hour to aggregate, computed by <see cref="HourWindow.FromWorkflowInput"/> (the preceding whole UTC hour).
/// </summary>
/// <remarks>
/// The answer is a JSON object:
/// <c>{"target_hour": "2026-11-24T13", "year": "2026", "month": "11", "day": "24", "hour": "13",
/// "start": "2026-11-24T13:00:00Z", "end": "2026-11-24T14:00:00Z"}</c>.
/// The Lambda runtime passes streams to a handler with this signature without a serializer package.
/// Instances hold no state and are safe to reuse across invocations.
/// </remarks>
public sealed class Function
{
    /// <summary>The Lambda handler: workflow input in, target hour out.</summary>
    /// <exception cref="TallyException">When the input is not a JSON object with an ISO-8601 <c>target_datetime</c>;
    /// the state machine then publishes a failure event.</exception>
    public Stream Handler(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var reader = new StreamReader(input);
        var hour = HourWindow.FromWorkflowInput(reader.ReadToEnd());
        var output = new MemoryStream();
        Write(hour, output);
        output.Position = 0;
        return output;
    }

    private static void Write(HourWindow hour, Stream output)
    {
        var values = DataLayout.HourPartitionValues(hour);
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteString("target_hour", hour.ToString());
        writer.WriteString("year", values[0]);
        writer.WriteString("month", values[1]);
        writer.WriteString("day", values[2]);
        writer.WriteString("hour", values[3]);
        writer.WriteString("start", hour.Start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        writer.WriteString("end", hour.End.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        writer.WriteEndObject();
    }
}
