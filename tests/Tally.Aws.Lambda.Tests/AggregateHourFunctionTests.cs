using System.Text;
using System.Text.Json;
using Tally.Aws.Lambda;
using Tally.Storage;
using Tally.Synthetic;
using Tally.Tests;
using Tally.Tests.Storage;

namespace Tally.Aws.Lambda.Tests;

/// <summary>
/// The AggregateHour function invoked in process, as Lambda invokes it, with the JSON the state machine passes, on a bucket
/// of the S3 test server; its tables checked against DuckDB over a local copy of the same raw files.
/// </summary>
[Collection(S3rverCollection.Name)]
public sealed class AggregateHourFunctionTests(S3rverFixture s3) : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly TempDataFolder _local = new();
    private readonly DuckDbOracle _oracle = new();

    /// <summary>The seed's three tables, as the state machine's AggregateHour payload carries them (OrchestrationStackTests pins the same text).</summary>
    private const string SeedSpecs =
        """[{"table":"hits_by_country","groupBy":["CountryCode"],"format":"parquet"},{"table":"hits_by_domain_and_groupid","groupBy":["Domain","GroupID"],"format":"json"},{"table":"hits_by_useragent","groupBy":["UserAgent"],"format":"parquet"}]""";

    /// <summary>Each seed table's file of the hour 2026-11-24T13, as DESIGN.md lays it out.</summary>
    private static readonly Dictionary<string, string> SeedTableFiles = new()
    {
        ["hits_by_country"] = "aggregated_data/hits_by_country/year=2026/month=11/day=24/hour=13/part-00000.parquet",
        ["hits_by_domain_and_groupid"] = "aggregated_data/hits_by_domain_and_groupid/year=2026/month=11/day=24/hour=13/part-00000.json",
        ["hits_by_useragent"] = "aggregated_data/hits_by_useragent/year=2026/month=11/day=24/hour=13/part-00000.parquet",
    };

    private const string QuarantineFile = "quarantine/year=2026/month=11/day=24/hour=13/rejected.jsonl";

    /// <summary>The state machine's AggregateHour payload for the seed's declaration (OrchestrationStack builds the same keys).</summary>
    private static string SeedInput(string hour = "2026-11-24T13") => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["target_hour"] = hour,
        ["specs"] = SeedSpecs,
        ["rejected_threshold"] = 0.01,
    });

    private static JsonElement Invoke(AggregateHourFunction function, string input)
    {
        using var stream = function.Handler(new MemoryStream(Encoding.UTF8.GetBytes(input)));
        using var doc = JsonDocument.Parse(stream);
        return doc.RootElement.Clone();
    }

    private static AggregateHourFunction FunctionOn(IObjectStore store, int attempts = 3) => new(() => store, new RetryPolicy(attempts, TimeSpan.Zero, TimeSpan.Zero));

    [S3Fact]
    public async Task Handler_AggregatesTheHourInTheBucket_AndItsTablesEqualDuckDbs()
    {
        using var store = await s3.NewStoreAsync("");
        await new RawDataGenerator(store).GenerateAsync(new GeneratorOptions(Hour, 1, 25_000, Seed: 11, FilesPerMinute: 2));

        var output = Invoke(FunctionOn(store), SeedInput());

        Assert.Equal("succeeded", output.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, output.GetProperty("error_name").ValueKind);
        Assert.Equal(JsonValueKind.Null, output.GetProperty("error").ValueKind);
        Assert.Equal("2026-11-24T13", output.GetProperty("target_hour").GetString());
        Assert.Equal(25_000, output.GetProperty("records").GetInt64());
        Assert.Equal(0, output.GetProperty("rejected").GetInt64());
        Assert.Equal(120, output.GetProperty("files").GetInt32());
        await _local.CopyFromAsync(store, "");
        var tables = output.GetProperty("tables").EnumerateArray().ToDictionary(t => t.GetProperty("table").GetString()!);
        Assert.Equal(SeedTableFiles.Keys.Order(StringComparer.Ordinal), tables.Keys.Order(StringComparer.Ordinal));
        foreach (var spec in AggregationSpec.Defaults)
        {
            var key = SeedTableFiles[spec.Table];
            var expected = _oracle.ExpectedRows(_local.Root, Hour, spec);
            var actual = _oracle.FileRows(_local.PathOf(key), spec.Format);
            Assert.True(expected.Count > 1, $"{spec.Table}: the oracle found no groups");
            Assert.Equal(expected, actual.Order(StringComparer.Ordinal).ToList());
            Assert.Equal(expected.Count, tables[spec.Table].GetProperty("rows").GetInt64());
            Assert.Equal(key, tables[spec.Table].GetProperty("key").GetString());
            Assert.Equal($"s3://{store.Location.Bucket}/{key}", tables[spec.Table].GetProperty("location").GetString());
        }
    }

    [S3Fact]
    public async Task Handler_RunTwice_ReplacesTheHour_LeavingOneObjectPerTable()
    {
        using var store = await s3.NewStoreAsync("");
        await new RawDataGenerator(store).GenerateAsync(new GeneratorOptions(Hour, 1, 3_000, Seed: 5));
        var function = FunctionOn(store);

        var first = Invoke(function, SeedInput());
        var second = Invoke(function, SeedInput());

        Assert.Equal(first.GetProperty("records").GetInt64(), second.GetProperty("records").GetInt64());
        Assert.Equal(first.GetProperty("input_fingerprint").GetString(), second.GetProperty("input_fingerprint").GetString());
        var written = (await s3.AllKeysAsync(store.Location.Bucket)).Where(k => !k.StartsWith("raw_data/", StringComparison.Ordinal));
        Assert.Equal(SeedTableFiles.Values.Order(StringComparer.Ordinal), written);
    }

    [S3Fact]
    public async Task Handler_WritesTheEmptyPartitions_OfAnHourWithoutRawData()
    {
        using var store = await s3.NewStoreAsync("");

        var output = Invoke(FunctionOn(store), SeedInput());

        Assert.Equal("succeeded", output.GetProperty("status").GetString());
        Assert.Equal(0, output.GetProperty("files").GetInt32());
        Assert.All(output.GetProperty("tables").EnumerateArray(), t => Assert.Equal(0, t.GetProperty("rows").GetInt64()));
        Assert.Equal(SeedTableFiles.Values.Order(StringComparer.Ordinal), (await s3.AllKeysAsync(store.Location.Bucket)).Order(StringComparer.Ordinal));
    }

    [S3Fact]
    public async Task Handler_ReturnsDataErrorAndItsCause_WhenMoreRecordsAreRejectedThanTheThreshold_AndLeavesTheTables()
    {
        using var store = await s3.NewStoreAsync("");
        var lines = Enumerable.Range(0, 200).Select(i => i % 10 == 0
            ? """{"GroupID": "not a number", "CountryCode": "US"}"""
            : $$"""{"GroupID": {{i}}, "CountryCode": "US", "UserAgent": "ua", "Language": "en", "Domain": "a.example", "Timestamp": "2026-11-24T13:05:00Z"}""");
        await store.WriteAtomicAsync("raw_data/year=2026/month=11/day=24/hour=13/minute=05/hits.json",
            (stream, ct) => stream.WriteAsync(Encoding.UTF8.GetBytes(string.Join('\n', lines)), ct).AsTask(), CancellationToken.None);

        var output = Invoke(FunctionOn(store), SeedInput());

        Assert.Equal("failed", output.GetProperty("status").GetString());
        Assert.Equal("Tally.DataError", output.GetProperty("error_name").GetString());
        var cause = output.GetProperty("error").GetString()!;
        Assert.StartsWith("20 of 200 records (10.00 %) were rejected, more than the threshold of 1.00 %", cause, StringComparison.Ordinal);
        Assert.Contains(QuarantineFile, cause, StringComparison.Ordinal);
        Assert.Equal(20, output.GetProperty("rejected").GetInt64());
        Assert.Empty(output.GetProperty("tables").EnumerateArray());
        var keys = await s3.AllKeysAsync(store.Location.Bucket);
        Assert.Contains(QuarantineFile, keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("aggregated_data/", StringComparison.Ordinal));
    }

    [S3Fact]
    public async Task Handler_AppliesTheRejectedThresholdItIsGiven()
    {
        using var store = await s3.NewStoreAsync("");
        await store.WriteAtomicAsync("raw_data/year=2026/month=11/day=24/hour=13/minute=00/hits.json", (stream, ct) => stream.WriteAsync(Encoding.UTF8.GetBytes(
            """
            {"GroupID": 1, "CountryCode": "US", "UserAgent": "ua", "Language": "en", "Domain": "a.example", "Timestamp": "2026-11-24T13:00:00Z"}
            not a record
            """), ct).AsTask(), CancellationToken.None);
        var input = SeedInput().Replace("\"rejected_threshold\":0.01", "\"rejected_threshold\":0.5", StringComparison.Ordinal);

        var output = Invoke(FunctionOn(store), input);

        Assert.Equal("succeeded", output.GetProperty("status").GetString());
        Assert.Equal(1, output.GetProperty("records").GetInt64());
        Assert.Equal(1, output.GetProperty("rejected").GetInt64());
        Assert.Equal($"s3://{store.Location.Bucket}/{QuarantineFile}", output.GetProperty("quarantine").GetString());
    }

    [S3Fact]
    public async Task Handler_ComputesTheDeclaredTables_OfTheDeclaredSource()
    {
        using var store = await s3.NewStoreAsync("");
        var source = SourceSchema.Create([new RawField("geo.country", RawFieldType.String) { Column = "country" }, new RawField("bytes", RawFieldType.Int64)], null);
        var specs = AggregationSpec.ParseJson("""[{"table": "bytes_by_country", "groupBy": ["country"], "format": "json", "metrics": [{"column": "total", "function": "sum", "field": "bytes"}]}]""", source);
        await store.WriteAtomicAsync("raw_data/year=2026/month=11/day=24/hour=13/minute=00/hits.json", (stream, ct) => stream.WriteAsync(Encoding.UTF8.GetBytes(
            """
            {"geo": {"country": "DE"}, "bytes": 10}
            {"geo": {"country": "DE"}, "bytes": 5}
            {"geo": {"country": "FR"}, "bytes": 7}
            """), ct).AsTask(), CancellationToken.None);
        var input = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["target_hour"] = "2026-11-24T13", ["specs"] = AggregationSpec.ToJson(specs), ["source"] = source.ToJson(), ["rejected_threshold"] = 0.01,
        });

        var output = Invoke(FunctionOn(store), input);

        Assert.Equal("succeeded", output.GetProperty("status").GetString());
        var key = Assert.Single(output.GetProperty("tables").EnumerateArray()).GetProperty("key").GetString()!;
        await _local.CopyFromAsync(store, "aggregated_data");
        Assert.Equal(["DE|15", "FR|7"], _oracle.FileRows(_local.PathOf(key), TableFormat.Json).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Handler_ReturnsTransientAndTheAttempts_WhenTheStoreCannotBeReached()
    {
        // Nothing listens on port 9 (discard) of 127.0.0.1 here; one request per attempt, two attempts.
        var settings = new S3Settings { Endpoint = new Uri("http://127.0.0.1:9"), AccessKeyId = "x", SecretAccessKey = "x", MaxAttempts = 1, RequestTimeout = TimeSpan.FromSeconds(2) };
        using var store = new S3ObjectStore(S3Location.Parse("s3://unreachable"), settings);

        var output = Invoke(FunctionOn(store, attempts: 2), SeedInput());

        Assert.Equal("failed", output.GetProperty("status").GetString());
        Assert.Equal("Tally.Transient", output.GetProperty("error_name").GetString());
        Assert.EndsWith("(after 2 attempts)", output.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("2026-11-24T13", output.GetProperty("target_hour").GetString());
    }

    [Theory]
    [InlineData("not json", "Tally.InvalidArgument")]
    [InlineData("[]", "Tally.InvalidArgument")]
    [InlineData("""{"specs": "[]"}""", "Tally.InvalidArgument")]
    [InlineData("""{"target_hour": "2026-11-24T13:30", "specs": "[]"}""", "Tally.InvalidArgument")]
    [InlineData("""{"target_hour": "2026-11-24T13"}""", "Tally.InvalidArgument")]
    [InlineData("""{"target_hour": "2026-11-24T13", "specs": "[{\"table\": \"t\", \"groupBy\": [\"NoSuchField\"], \"format\": \"json\"}]"}""", "Tally.InvalidConfiguration")]
    [InlineData("""{"target_hour": "2026-11-24T13", "specs": "[{\"table\": \"t\", \"groupBy\": [\"Domain\"], \"format\": \"json\"}]", "rejected_threshold": 2}""", "Tally.InvalidConfiguration")]
    public void Handler_ReturnsTheErrorName_OfAnInputThatIsNotARequest(string input, string errorName)
    {
        var function = new AggregateHourFunction(() => throw new InvalidOperationException("no store is needed"), new RetryPolicy(1, TimeSpan.Zero, TimeSpan.Zero));

        var output = Invoke(function, input);

        Assert.Equal("failed", output.GetProperty("status").GetString());
        Assert.Equal(errorName, output.GetProperty("error_name").GetString());
        Assert.False(string.IsNullOrWhiteSpace(output.GetProperty("error").GetString()));
    }

    [Fact]
    public void HandlerString_TheCdkAppDeploys_NamesThisAssemblyClassAndStreamMethod()
    {
        var method = typeof(AggregateHourFunction).GetMethod(nameof(AggregateHourFunction.Handler))!;
        var handler = $"{typeof(AggregateHourFunction).Assembly.GetName().Name}::{typeof(AggregateHourFunction).FullName}::{method.Name}";

        Assert.Equal("Tally.Aws.Lambda::Tally.Aws.Lambda.AggregateHourFunction::Handler", handler);
        Assert.Equal(typeof(Stream), method.ReturnType);
        Assert.Equal([typeof(Stream)], method.GetParameters().Select(p => p.ParameterType));
        Assert.NotNull(typeof(AggregateHourFunction).GetConstructor(Type.EmptyTypes));
    }

    [Fact]
    public void Package_ReferencesOnlyWhatARunNeeds()
    {
        var references = typeof(AggregateHourFunction).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.Contains("Tally.Core", references);
        Assert.Contains("Parquet", references);
        Assert.Contains("AWSSDK.S3", references);
        Assert.DoesNotContain(references, r => r.StartsWith("DuckDB", StringComparison.Ordinal) || r.Contains("Sqlite", StringComparison.OrdinalIgnoreCase)
            || r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || r.StartsWith("Microsoft.Extensions", StringComparison.Ordinal)
            || r is "Tally.Pipeline" or "tally");
    }

    public void Dispose()
    {
        _oracle.Dispose();
        _local.Dispose();
    }
}
