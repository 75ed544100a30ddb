using System.Text;
using System.Text.Json;
using Tally.Aws.Lambda;
using Tally.Storage;
using Tally.Tests.Storage;

namespace Tally.Aws.Lambda.Tests;

/// <summary>ComputeTargetHour: the hour before the scheduled time, its raw input measured in a bucket on the S3 test server, and the lease's times.</summary>
[Collection(S3rverCollection.Name)]
public class FunctionTests(S3rverFixture s3)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 14, 0, 7, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(150);

    private static JsonElement Invoke(Function function, string input)
    {
        using var stream = function.Handler(new MemoryStream(Encoding.UTF8.GetBytes(input)));
        using var doc = JsonDocument.Parse(stream);
        return doc.RootElement.Clone();
    }

    private async Task<(Function Function, S3ObjectStore Store)> NewFunctionAsync()
    {
        var store = await s3.NewStoreAsync("");
        return (new Function(() => store, () => Lease, new FixedClock(Now)), store);
    }

    private static string Input(string scheduledTime) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["target_datetime"] = scheduledTime });

    [S3Theory]
    [InlineData("2026-11-24T14:00:00Z", "2026-11-24T13")]
    [InlineData("2026-11-24T14:59:59Z", "2026-11-24T13")]
    [InlineData("2026-11-24T14:00:00.000Z", "2026-11-24T13")]
    [InlineData("2026-11-24T14:30", "2026-11-24T13")]
    [InlineData("2026-11-24T14:00:00+02:00", "2026-11-24T11")]
    [InlineData("2026-11-24T00:00:00Z", "2026-11-23T23")]
    [InlineData("2027-01-01T00:05:00Z", "2026-12-31T23")]
    [InlineData("2028-03-01T00:00:00Z", "2028-02-29T23")]
    [InlineData("2026-03-29T03:00:00+02:00", "2026-03-29T00")]
    public async Task Handler_ReturnsPrecedingUtcHour_ForScheduledTime(string scheduledTime, string expectedHour)
    {
        var (function, store) = await NewFunctionAsync();
        using var _ = store;

        var output = Invoke(function, Input(scheduledTime));

        Assert.Equal(expectedHour, output.GetProperty("target_hour").GetString());
    }

    [S3Fact]
    public async Task Handler_ReturnsZeroPaddedPartitionValuesAndBounds()
    {
        var (function, store) = await NewFunctionAsync();
        using var _ = store;

        var output = Invoke(function, """{"target_datetime": "2026-02-03T05:00:00Z"}""");

        Assert.Equal("2026-02-03T04", output.GetProperty("target_hour").GetString());
        Assert.Equal("2026", output.GetProperty("year").GetString());
        Assert.Equal("02", output.GetProperty("month").GetString());
        Assert.Equal("03", output.GetProperty("day").GetString());
        Assert.Equal("04", output.GetProperty("hour").GetString());
        Assert.Equal("2026-02-03T04:00:00Z", output.GetProperty("start").GetString());
        Assert.Equal("2026-02-03T05:00:00Z", output.GetProperty("end").GetString());
    }

    [S3Fact]
    public async Task Handler_IgnoresOtherInputFields_AsSchedulerAndManualRunsMayAddThem()
    {
        var (function, store) = await NewFunctionAsync();
        using var _ = store;

        var output = Invoke(function, """{"target_datetime": "2026-11-24T14:00:00Z", "trigger": "manual"}""");

        Assert.Equal("2026-11-24T13", output.GetProperty("target_hour").GetString());
    }

    [S3Fact]
    public async Task Handler_CountsTheFilesAndBytesTheEngineReads_InEveryMinuteOfTheHourOnly()
    {
        var (function, store) = await NewFunctionAsync();
        using var _ = store;
        await PutAsync(store, "raw_data/year=2026/month=11/day=24/hour=13/minute=00/a.json", 1000);
        await PutAsync(store, "raw_data/year=2026/month=11/day=24/hour=13/minute=59/b.jsonl.gz", 234);
        await PutAsync(store, "raw_data/year=2026/month=11/day=24/hour=13/minute=7/unpadded.json", 66);
        await PutAsync(store, "raw_data/year=2026/month=11/day=24/hour=13/minute=01/_SUCCESS", 5);
        await PutAsync(store, "raw_data/year=2026/month=11/day=24/hour=13/minute=01/.hidden.json", 5);
        await PutAsync(store, "raw_data/year=2026/month=11/day=24/hour=14/minute=00/next-hour.json", 5000);
        await PutAsync(store, "raw_data/year=2026/month=11/day=24/hour=12/minute=59/previous-hour.json", 7000);

        var output = Invoke(function, """{"target_datetime": "2026-11-24T14:00:00Z"}""");

        Assert.Equal(3, output.GetProperty("raw_files").GetInt32());
        Assert.Equal(1000 + 234 + 66, output.GetProperty("raw_bytes").GetInt64());
    }

    [S3Fact]
    public async Task Handler_MeasuresAnHourWithoutRawDataAsZero()
    {
        var (function, store) = await NewFunctionAsync();
        using var _ = store;

        var output = Invoke(function, """{"target_datetime": "2026-11-24T14:00:00Z"}""");

        Assert.Equal(0, output.GetProperty("raw_files").GetInt32());
        Assert.Equal(0, output.GetProperty("raw_bytes").GetInt64());
    }

    [S3Fact]
    public async Task Handler_GivesTheLeaseItsStartAndExpiry_InUnixSecondsAsDynamoDbNumberStrings()
    {
        var (function, store) = await NewFunctionAsync();
        using var _ = store;

        var output = Invoke(function, """{"target_datetime": "2026-11-24T14:00:00Z"}""");

        Assert.Equal("1795528807", output.GetProperty("lease_now").GetString());
        Assert.Equal("1795537807", output.GetProperty("lease_expires").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"target_datetime": 5}""")]
    [InlineData("""{"target_datetime": "yesterday"}""")]
    [InlineData("""{"target_datetime": "<aws.scheduler.scheduled-time>"}""")]
    public void Handler_ThrowsInvalidArgument_WhenInputIsNotASchedulerInput(string input)
    {
        var e = Assert.Throws<TallyException>(() => Invoke(new Function(), input));

        Assert.Equal(TallyErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void Handler_ThrowsInvalidConfiguration_WhenTheEnvironmentNamesNoBucket()
    {
        Assert.Null(Environment.GetEnvironmentVariable("TALLY_DATA"));
        var function = new Function(LambdaEnvironment.OpenStore, () => Lease, TimeProvider.System);

        var e = Assert.Throws<TallyException>(() => Invoke(function, """{"target_datetime": "2026-11-24T14:00:00Z"}"""));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Contains("TALLY_DATA", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HandlerString_TheCdkAppDeploys_NamesThisAssemblyClassAndStreamMethod()
    {
        var method = typeof(Function).GetMethod(nameof(Function.Handler))!;
        var handler = $"{typeof(Function).Assembly.GetName().Name}::{typeof(Function).FullName}::{method.Name}";

        Assert.Equal("Tally.Aws.Lambda::Tally.Aws.Lambda.Function::Handler", handler);
        Assert.Equal(typeof(Stream), method.ReturnType);
        Assert.Equal([typeof(Stream)], method.GetParameters().Select(p => p.ParameterType));
        Assert.NotNull(typeof(Function).GetConstructor(Type.EmptyTypes));
    }

    private static Task PutAsync(IObjectStore store, string key, int bytes) =>
        store.WriteAtomicAsync(key, (stream, ct) => stream.WriteAsync(new byte[bytes], ct).AsTask(), CancellationToken.None);
}

/// <summary>A clock that always says the same time.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
