using System.Globalization;
using System.Text.Json;
using Tally.Engine;
using Tally.Storage;

namespace Tally.Aws.Lambda;

/// <summary>
/// The state machine's ComputeTargetHour step: reads the workflow input (<see cref="WorkflowContract.SchedulerInput"/>),
/// computes the hour to aggregate (<see cref="WorkflowContract.TargetHour(string)"/>: the preceding whole UTC hour), and measures
/// that hour's raw input in the bucket, so that the state machine can choose the engine (this package's AggregateHour
/// function, or Glue above a size) and take the hour's lease.
/// </summary>
/// <remarks>
/// The answer is a JSON object:
/// <c>{"target_hour": "2026-11-24T13", "year": "2026", "month": "11", "day": "24", "hour": "13",
/// "start": "2026-11-24T13:00:00Z", "end": "2026-11-24T14:00:00Z", "raw_files": 60, "raw_bytes": 1320000000,
/// "lease_now": "1795525200", "lease_expires": "1795534200"}</c>.
/// <c>raw_files</c> and <c>raw_bytes</c> count the files the engine reads (the same listing as its report's <c>files</c> and
/// <c>bytes</c>); <c>lease_now</c> and <c>lease_expires</c> are Unix seconds, as strings (DynamoDB's number format), for the
/// lease item: now, and now plus <c>TALLY_LEASE_SECONDS</c>.
/// The Lambda runtime passes streams to a handler with this signature without a serializer package.
/// Instances are safe to reuse across invocations; the S3 client is created at the first that needs it.
/// </remarks>
public sealed class Function
{
    private readonly Lazy<IObjectStore> _store;
    private readonly Lazy<TimeSpan> _lease;
    private readonly TimeProvider _time;

    /// <summary>The function as Lambda creates it: the bucket and the lease duration from the environment (<see cref="LambdaEnvironment"/>).</summary>
    public Function()
        : this(() => LambdaEnvironment.OpenStore(), LambdaEnvironment.LeaseDuration, TimeProvider.System)
    {
    }

    internal Function(Func<IObjectStore> store, Func<TimeSpan> lease, TimeProvider time)
    {
        _store = new Lazy<IObjectStore>(store);
        _lease = new Lazy<TimeSpan>(lease);
        _time = time;
    }

    /// <summary>The Lambda handler: workflow input in, target hour and its raw input's size out.</summary>
    /// <exception cref="TallyException">InvalidArgument when the input is not a JSON object with an ISO-8601 <see cref="WorkflowContract.ScheduledTimeKey"/>;
    /// InvalidConfiguration when the environment is incomplete; Transient (or another kind) when listing the bucket fails.
    /// The state machine then publishes a failure event.</exception>
    public Stream Handler(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var reader = new StreamReader(input);
        var hour = WorkflowContract.TargetHour(reader.ReadToEnd());
        var lease = _lease.Value;
        var files = RawFiles.ListAsync(_store.Value, hour, CancellationToken.None).GetAwaiter().GetResult();
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var output = new MemoryStream();
        Write(output, hour, files.Count, files.Sum(f => f.Size), now, now + (long)lease.TotalSeconds);
        output.Position = 0;
        return output;
    }

    private static void Write(Stream output, HourWindow hour, int files, long bytes, long now, long leaseExpires)
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
        writer.WriteNumber("raw_files", files);
        writer.WriteNumber("raw_bytes", bytes);
        writer.WriteString("lease_now", now.ToString(CultureInfo.InvariantCulture));
        writer.WriteString("lease_expires", leaseExpires.ToString(CultureInfo.InvariantCulture));
        writer.WriteEndObject();
    }
}
