using System.Text.Json;
using System.Text.Json.Nodes;
using Tally.Engine;
using Tally.Storage;

namespace Tally.Aws.Lambda;

/// <summary>
/// The state machine's AggregateHour step on its default engine: Tally's own engine (<see cref="HourAggregationJob"/>, the
/// code <c>tally run</c> runs) over the bucket through the S3 store, with the same layout, quarantine and rejected threshold.
/// An attempt that fails on a transient error (S3 throttling, 5xx, a dropped connection, after the S3 client's own
/// retries) is retried here, as <c>tally run</c> does by default (<see cref="WorkflowContract.AggregateHourRetry"/>).
/// </summary>
/// <remarks>
/// The input is an <see cref="AggregateHourRequest"/>. The answer is what <c>tally run --format json</c> prints, without the
/// local run's id and event: the run report (<c>target_hour</c>, <c>status</c>, counts, <c>tables</c>, <c>quarantine</c>…), its
/// <c>error</c> (the cause, null when it succeeded) and <c>error_name</c> (<c>Tally.DataError</c>, <c>Tally.Transient</c>,
/// <c>Tally.InvalidConfiguration</c>, …, as <see cref="TallyException.ErrorName"/> gives them, or an unexpected exception's
/// type). A failed run is an answer, not a Lambda error: the state machine turns <c>error_name</c> and <c>error</c> into the
/// <c>Error</c> and <c>Cause</c> its Catch gives FormatFailure, so the failure event carries Tally's own names.
/// Instances are safe to reuse across invocations, one at a time; the S3 client is created at the first.
/// </remarks>
public sealed class AggregateHourFunction
{
    private readonly Lazy<IObjectStore> _store;
    private readonly RetryPolicy _retry;

    /// <summary>The function as Lambda creates it: the bucket from the environment (<see cref="LambdaEnvironment"/>).</summary>
    public AggregateHourFunction()
        : this(() => LambdaEnvironment.OpenStore(), WorkflowContract.AggregateHourRetry)
    {
    }

    internal AggregateHourFunction(Func<IObjectStore> store, RetryPolicy retry)
    {
        _store = new Lazy<IObjectStore>(store);
        _retry = retry;
    }

    /// <summary>The Lambda handler: an <see cref="AggregateHourRequest"/> in, the run's report and error out.</summary>
    /// <remarks>Never throws for a failed run; only the Lambda runtime's own failures (timeout, out of memory) reach the state machine as errors.</remarks>
    public Stream Handler(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        string text;
        using (var reader = new StreamReader(input)) text = reader.ReadToEnd();

        JsonObject answer;
        try
        {
            var request = AggregateHourRequest.Parse(text);
            answer = RunAsync(request).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            answer = Failure(null, null, e);
        }
        var json = answer.ToJsonString();
        // One line in the function's log group per run.
        Console.Out.WriteLine(json);
        return new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
    }

    private async Task<JsonObject> RunAsync(AggregateHourRequest request)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var report = await new HourAggregationJob(_store.Value, request.Options).RunAsync(request.Hour).ConfigureAwait(false);
                return report.Status == RunStatus.Failed
                    ? Answer(report, report.Error, TallyException.ErrorName(TallyErrorKind.DataError))
                    : Answer(report, null, null);
            }
            catch (TallyException e) when (e.IsTransient && attempt < _retry.MaxAttempts)
            {
                Console.Error.WriteLine($"{request.Hour}: attempt {attempt} failed, retrying: {e.Message}");
                await Task.Delay(_retry.Delay(attempt)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var cause = e is TallyException { IsTransient: true } && attempt > 1 ? $"{e.Message} (after {attempt} attempts)" : e.Message;
                return Failure(request.Hour, cause, e);
            }
        }
    }

    private static JsonObject Answer(RunReport report, string? cause, string? errorName)
    {
        var json = JsonSerializer.SerializeToNode(report)!.AsObject();
        json["error"] = cause;
        json["error_name"] = errorName;
        return json;
    }

    /// <summary>The answer of a run that ended without a report: its hour (when known), its cause and its error name.</summary>
    private static JsonObject Failure(HourWindow? hour, string? cause, Exception e) => new()
    {
        ["target_hour"] = hour?.ToString(),
        ["status"] = WorkflowContract.Report.Failed,
        ["error"] = cause ?? e.Message,
        ["error_name"] = e is TallyException t ? TallyException.ErrorName(t.Kind) : e.GetType().FullName ?? e.GetType().Name,
    };
}
