using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tally.Configuration;
using Tally.Engine;

namespace Tally.Tests.Engine;

/// <summary>
/// A team's own events, declared in the settings file: nested fields of every type, tables with every metric, in every
/// file shape the contract allows. Each table equals DuckDB's SQL over the same records (read with explicit nested
/// <c>columns</c>), row for row.
/// </summary>
public sealed class DeclaredSchemaOracleTests : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly TempDataFolder _data = new();
    private readonly TempDataFolder _oracleData = new();
    private readonly DuckDbOracle _duck = new();

    /// <summary>The settings file a user would write: nested names, a renamed column, a default column, every type.</summary>
    private const string Settings = """
        {
          "Source": {
            "Fields": [
              { "Name": "event.path", "Type": "string" },
              { "Name": "geo.country", "Column": "country", "Type": "string" },
              { "Name": "bytes", "Type": "int64" },
              { "Name": "latency_ms", "Type": "double" },
              { "Name": "bot", "Type": "boolean" },
              { "Name": "ts", "Type": "timestamp" },
              { "Name": "user", "Type": "string" }
            ],
            "EventTime": "ts"
          },
          "Aggregations": [
            { "Table": "views_by_country", "GroupBy": ["country"], "Format": "parquet",
              "Metrics": [ { "Column": "hits", "Function": "count" },
                           { "Column": "bytes", "Function": "sum", "Field": "bytes" },
                           { "Column": "users", "Function": "count_distinct", "Field": "user" },
                           { "Column": "max_latency", "Function": "max", "Field": "latency_ms" },
                           { "Column": "min_latency", "Function": "min", "Field": "latency_ms" },
                           { "Column": "first_seen", "Function": "min", "Field": "ts" },
                           { "Column": "any_bot", "Function": "max", "Field": "bot" },
                           { "Column": "first_path", "Function": "min", "Field": "event.path" } ] },
            { "Table": "by_path_and_bot", "GroupBy": ["event_path", "bot"], "Format": "json",
              "Metrics": [ { "Column": "total_latency", "Function": "sum", "Field": "latency_ms" },
                           { "Column": "min_bytes", "Function": "min", "Field": "bytes" },
                           { "Column": "max_bytes", "Function": "max", "Field": "bytes" },
                           { "Column": "last_seen", "Function": "max", "Field": "ts" },
                           { "Column": "last_user", "Function": "max", "Field": "user" },
                           { "Column": "n", "Function": "count" } ] },
            { "Table": "by_latency", "GroupBy": ["latency_ms"], "Format": "json" },
            { "Table": "countries_per_user", "GroupBy": ["user", "bytes"], "Format": "parquet",
              "Metrics": [ { "Column": "countries", "Function": "count_distinct", "Field": "country" },
                           { "Column": "times", "Function": "count_distinct", "Field": "ts" } ] }
          ]
        }
        """;

    /// <summary>DuckDB's reading of the same records: the nested objects as structs, every declared field typed.</summary>
    private const string Columns =
        "columns = {event: 'STRUCT(path VARCHAR)', geo: 'STRUCT(country VARCHAR)', bytes: 'BIGINT', latency_ms: 'DOUBLE', bot: 'BOOLEAN', ts: 'VARCHAR', \"user\": 'VARCHAR'}";

    /// <summary>The expected rows of each table, as SQL over <c>raw</c> (the records) with the same column names.</summary>
    private static readonly Dictionary<string, string> ExpectedSql = new()
    {
        ["views_by_country"] = """
            SELECT geo.country AS country, count(*)::BIGINT AS hits, sum(bytes)::BIGINT AS bytes, count(DISTINCT "user")::BIGINT AS users,
                   max(latency_ms) AS max_latency, min(latency_ms) AS min_latency, epoch_us(min(ts::TIMESTAMPTZ)) AS first_seen,
                   max(bot) AS any_bot, min(event.path) AS first_path
            FROM raw GROUP BY ALL
            """,
        ["by_path_and_bot"] = """
            SELECT event.path AS event_path, bot, sum(latency_ms) AS total_latency, min(bytes) AS min_bytes, max(bytes) AS max_bytes,
                   epoch_us(max(ts::TIMESTAMPTZ)) AS last_seen, max("user") AS last_user, count(*)::BIGINT AS n
            FROM raw GROUP BY ALL
            """,
        ["by_latency"] = "SELECT latency_ms, count(*)::BIGINT AS hitcount FROM raw GROUP BY ALL",
        ["countries_per_user"] = """
            SELECT bytes, "user", count(DISTINCT geo.country)::BIGINT AS countries, count(DISTINCT ts)::BIGINT AS times FROM raw GROUP BY ALL
            """,
    };

    /// <summary>Tally's file of each table, read back with the catalog's column types (timestamps as epoch microseconds).</summary>
    private static readonly Dictionary<string, string> ActualSelect = new()
    {
        ["views_by_country"] = "country, hits, bytes, users, max_latency, min_latency, epoch_us(first_seen::TIMESTAMPTZ), any_bot, first_path",
        ["by_path_and_bot"] = "event_path, bot, total_latency, min_bytes, max_bytes, epoch_us(last_seen::TIMESTAMPTZ), last_user, n",
        ["by_latency"] = "latency_ms, hitcount",
        ["countries_per_user"] = "bytes, \"user\", countries, times",
    };

    [Fact]
    public async Task DeclaredSchema_EveryTypeAndMetric_InEveryFileShape_MatchesDuckDb()
    {
        var options = Load(Settings);
        var records = Records(new Random(12), 3_000);
        WriteInEveryShape(records);

        var report = await new HourAggregationJob(_data.Store, options).RunAsync(Hour);

        Assert.Equal(RunStatus.Succeeded, report.Status);
        Assert.Equal(records.Count, report.Records);
        Assert.Equal(0, report.Rejected);
        Assert.Equal(new RawFileKinds(Json: 15, Gzip: 6, Zstd: 6, Unknown: 0), report.FileKinds);
        AssertTablesMatchDuckDb(options, records, report);
    }

    [Fact]
    public async Task DeclaredSchema_SmallBuffer_AndManyWorkers_GiveTheSameRows()
    {
        // Records straddle every refill, and workers' groups, sums, extremes and distinct sets are merged.
        var options = Load(Settings) with { MaxParallelism = 3 };
        var records = Records(new Random(5), 1_500);
        WriteInEveryShape(records);

        var report = await new HourAggregationJob(_data.Store, options) { ReadBufferBytes = 61 }.RunAsync(Hour);

        Assert.Equal(RunStatus.Succeeded, report.Status);
        AssertTablesMatchDuckDb(options, records, report);
    }

    [Fact]
    public async Task DeclaredSchema_OutsideWindow_IsCheckedOnTheDeclaredEventTime()
    {
        var options = Load(Settings);
        _data.WriteRaw(Hour, 0, "a.json", """
            {"ts": "2026-11-24T13:59:59.999Z", "user": "a"}
            {"ts": "2026-11-24T14:00:00Z", "user": "b"}
            {"ts": "2026-11-24T15:30:00+02:00", "user": "c"}
            {"ts": "2026-11-24T12:59:59+00:00"}
            {"ts": null}
            {}
            """);

        var report = await new HourAggregationJob(_data.Store, options).RunAsync(Hour);

        Assert.Equal(6, report.Records);
        Assert.Equal(2, report.OutsideWindow); // 14:00:00Z and 12:59:59Z; 15:30+02:00 is 13:30Z
    }

    public static TheoryData<string, string> WrongTypes => new()
    {
        { """{"bytes": "12"}""", "bytes is not an integer (found a string)" },
        { """{"bytes": 1.5}""", "bytes is not a 64-bit integer" },
        { """{"latency_ms": "fast"}""", "latency_ms is not a number (found a string)" },
        { """{"latency_ms": 1e400}""", "latency_ms is not a finite 64-bit floating-point number" },
        { """{"bot": "yes"}""", "bot is not a boolean (found a string)" },
        { """{"bot": 1}""", "bot is not a boolean (found a number)" },
        { """{"geo": "DE"}""", "geo is not an object (found a string), so it cannot hold geo.country" },
        { """{"geo": [{"country": "DE"}]}""", "geo is not an object (found an array)" },
        { """{"geo": {"country": 7}}""", "geo.country is not a string (found a number)" },
        { """{"event": {"path": {"x": 1}}}""", "event.path is not a string (found an object)" },
        { """{"ts": "yesterday"}""", "ts is not an ISO-8601 date-time" },
        { """{"user": true}""", "user is not a string (found a boolean)" },
        { """{"other": {"deep": [1, 2, {"x": tru}]}}""", "not valid JSON" },
        { """{"other": NaN}""", "not valid JSON" },
        { """{"other": 'single'}""", "not valid JSON" },
        { """{"geo": {"country": "DE",}}""", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public async Task DeclaredSchema_RejectsAWrongTypeOrInvalidJson_AnywhereInTheRecord_WithAReason(string record, string reason)
    {
        var options = Load(Settings) with { RejectedThreshold = 1 };
        _data.WriteRaw(Hour, 7, "bad.json", """{"geo": {"country": "FR"}, "bytes": 3, "other": {"a": [1, {"b": null}]}}""" + "\n" + record + "\n");

        var report = await new HourAggregationJob(_data.Store, options).RunAsync(Hour);

        Assert.Equal(1, report.Records);
        Assert.Equal(1, report.Rejected);
        var rejected = JsonNode.Parse(File.ReadLines(_data.PathOf(DataLayout.QuarantineFile(Hour))).Single())!;
        Assert.Contains(reason, rejected["reason"]!.GetValue<string>());
        var rows = _duck.FileRows(_data.PathOf(DataLayout.TableFile(options.Aggregations[0], Hour)), TableFormat.Parquet);
        Assert.StartsWith("FR|1|3|0|", Assert.Single(rows));
    }

    public static TheoryData<string, byte[]> InvalidUtf8Anywhere => new()
    {
        { "an undeclared value", Line("{\"geo\": {\"country\": \"DE\"}, \"note\": \"caf", [0xC3], "\"}") },
        { "an undeclared key", Line("{\"geo\": {\"country\": \"DE\"}, \"k", [0xFF], "\": 1}") },
        { "a value deep in an undeclared object", Line("{\"geo\": {\"country\": \"DE\"}, \"o\": {\"a\": [1, \"x", [0xE2, 0x82], "\"]}}") },
        { "a key deep in an undeclared array", Line("{\"o\": [{\"", [0x80], "\": null}], \"geo\": {\"country\": \"DE\"}}") },
        { "an undeclared key beside a declared one inside a declared object", Line("{\"geo\": {\"country\": \"DE\", \"", [0xC0, 0xAF], "\": 2}}") },
        { "an undeclared value with an escape", Line("{\"geo\": {\"country\": \"DE\"}, \"note\": \"\\n", [0xC3], "\"}") },
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8Anywhere))]
    public async Task DeclaredSchema_RejectsInvalidUtf8_EvenInValuesItDoesNotRead(string where, byte[] record)
    {
        var options = Load(Settings) with { RejectedThreshold = 1 };
        _data.WriteRawBytes(DataLayout.RawMinutePrefix(Hour, 3) + "/utf8.json", [.. record, .. Encoding.UTF8.GetBytes("{\"geo\": {\"country\": \"FR\"}}\n")]);

        var report = await new HourAggregationJob(_data.Store, options).RunAsync(Hour);

        Assert.True(report.Rejected == 1, $"{where}: {report.Rejected} rejected");
        Assert.Equal(1, report.Records);
    }

    private static byte[] Line(string before, byte[] bad, string after) =>
        [.. Encoding.UTF8.GetBytes(before), .. bad, .. Encoding.UTF8.GetBytes(after + "\n")];

    [Fact]
    public async Task IntegerSum_ThatOverflows_FailsTheRunWithADataError_NeverAWrappedNumber()
    {
        var options = Load(Settings);
        _data.WriteRaw(Hour, 1, "a.json", """{"geo": {"country": "DE"}, "bytes": 9223372036854775807}""" + "\n");
        _data.WriteRaw(Hour, 2, "b.json", """{"geo": {"country": "DE"}, "bytes": 1}""" + "\n");

        var e = await Assert.ThrowsAsync<TallyException>(() => new HourAggregationJob(_data.Store, options with { MaxParallelism = 1 }).RunAsync(Hour));

        Assert.Equal(TallyErrorKind.DataError, e.Kind);
        Assert.Contains("does not fit in a 64-bit integer", e.Message);
        Assert.False(File.Exists(_data.PathOf(DataLayout.TableFile(options.Aggregations[0], Hour))));
    }

    private void AssertTablesMatchDuckDb(TallyOptions options, IReadOnlyList<string> records, RunReport report)
    {
        var oracleFile = Path.Combine(_oracleData.Root, "records.json");
        File.WriteAllLines(oracleFile, records);
        // -0.0 equals 0.0 in SQL, and Tally stores it as 0.0; DuckDB may show either, so the oracle reads it as 0.0 too.
        _duck.Rows($"CREATE OR REPLACE TEMP TABLE raw AS SELECT * REPLACE (latency_ms + 0.0 AS latency_ms) FROM read_json('{oracleFile}', format = 'newline_delimited', {Columns})");
        foreach (var table in options.Tables())
        {
            var expected = _duck.Rows(ExpectedSql[table.Table]).Order(StringComparer.Ordinal).ToList();
            var path = _data.PathOf(DataLayout.TableFile(table.Spec, Hour));
            var reader = table.Format == TableFormat.Parquet
                ? $"read_parquet('{path}')"
                : $"read_json('{path}', format = 'newline_delimited', columns = {{{string.Join(", ", table.Columns.Select(c => $"\"{c.Name}\": '{DuckType(c.CatalogType)}'"))}}})";
            var actual = _duck.Rows($"SELECT {ActualSelect[table.Table]} FROM {reader}");

            Assert.True(expected.Count > 3, $"{table.Table}: the oracle found only {expected.Count} groups");
            Assert.Equal(expected, actual.Order(StringComparer.Ordinal).ToList());
            Assert.Equal(expected.Count, report.Tables.Single(t => t.Table == table.Table).Rows);
            // The stored types are the catalog's: DuckDB reads the Parquet columns back as those types.
            if (table.Format == TableFormat.Parquet)
            {
                Assert.Equal(table.Columns.Select(c => $"{c.Name} {(c.CatalogType == CatalogTypes.Timestamp ? "TIMESTAMP WITH TIME ZONE" : DuckType(c.CatalogType))}"),
                    _duck.FileSchema(path, TableFormat.Parquet));
            }
            // Rows are sorted by the group-by fields, in group-by order, nulls first.
            var keys = string.Join(", ", table.GroupBy.Select(f => $"\"{f.Column}\" NULLS FIRST"));
            var inFileOrder = _duck.Rows($"SELECT {string.Join(", ", table.GroupBy.Select(f => $"\"{f.Column}\""))} FROM {reader}");
            var sorted = _duck.Rows($"SELECT {string.Join(", ", table.GroupBy.Select(f => $"\"{f.Column}\""))} FROM {reader} ORDER BY {keys}");
            Assert.Equal(sorted, inFileOrder);
        }
    }

    private static string DuckType(string catalogType) => catalogType switch
    {
        CatalogTypes.BigInt => "BIGINT",
        CatalogTypes.Double => "DOUBLE",
        CatalogTypes.Boolean => "BOOLEAN",
        CatalogTypes.Timestamp => "VARCHAR",
        _ => "VARCHAR",
    };

    /// <summary>The settings, as <c>tally</c> loads them from a settings file.</summary>
    private TallyOptions Load(string json)
    {
        var file = Path.Combine(_oracleData.Root, "settings.json");
        File.WriteAllText(file, json);
        return TallySettings.Load(_oracleData.Root, file).ToOptions();
    }

    /// <summary>
    /// Records of every kind of value: nested objects present, null or missing; nulls and missing fields; doubles in
    /// several notations (binary fractions, so sums are exact whatever the order); escapes; undeclared nested values;
    /// timestamps with offsets and precisions.
    /// </summary>
    private static List<string> Records(Random random, int count)
    {
        string[] countries = ["DE", "FR", "US", "JP", "BR", "Ünïcödé", "a\"quote"];
        string[] paths = ["/", "/home", "/cart", "/search?q=1", "/é"];
        string[] latencies = ["0.25", "12", "1.5e1", "-0.0", "0", "3.75", "1E2", "-2.5", "100.0"];
        string[] times = ["2026-11-24T13:05:00Z", "2026-11-24T13:59:59.999Z", "2026-11-24T15:10:00+02:00", "2026-11-24T13:00:00.000Z", "2026-11-24T13:30:00.5+00:00", "2026-11-24T12:00:00Z"];
        var records = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var fields = new List<string>();
            void Maybe(int percent, string field)
            {
                if (random.Next(100) < percent) fields.Add(field);
            }
            Maybe(90, random.Next(10) switch
            {
                0 => "\"geo\": null",
                1 => "\"geo\": {}",
                2 => "\"geo\": {\"country\": null, \"city\": \"x\"}",
                _ => $"\"geo\": {{\"city\": {{\"name\": \"c{random.Next(5)}\", \"pop\": [1, 2.5]}}, \"country\": {JsonSerializer.Serialize(countries[random.Next(countries.Length)])}}}",
            });
            Maybe(85, random.Next(8) == 0 ? "\"event\": null" : $"\"event\": {{\"path\": {JsonSerializer.Serialize(paths[random.Next(paths.Length)])}, \"ref\": \"r\"}}");
            Maybe(80, random.Next(10) == 0 ? "\"bytes\": null" : $"\"bytes\": {random.Next(-5, 2_000_000) * (random.Next(50) == 0 ? 1_000_000L : 1L)}");
            Maybe(80, random.Next(10) == 0 ? "\"latency_ms\": null" : $"\"latency_ms\": {latencies[random.Next(latencies.Length)]}");
            Maybe(75, $"\"bot\": {(random.Next(5) == 0 ? "null" : random.Next(3) == 0 ? "true" : "false")}");
            Maybe(90, random.Next(15) == 0 ? "\"ts\": null" : $"\"ts\": \"{times[random.Next(times.Length)]}\"");
            Maybe(85, $"\"user\": {(random.Next(20) == 0 ? "null" : random.Next(10) == 0 ? "\"u\\u00e9" + random.Next(30) + "\"" : "\"u" + random.Next(300) + "\"")}");
            Maybe(30, "\"extra\": [1, {\"a\": [true, false, null]}, \"s\", -1.5e-3]");
            Maybe(20, "\"flag\": true, \"n\": 1.25");
            records.Add("{" + string.Join(", ", fields.OrderBy(_ => random.Next())) + "}");
        }
        return records;
    }

    /// <summary>
    /// The records spread over minute folders in each shape (JSON Lines, CRLF lines, pretty-printed, an array, back to back)
    /// and in gzip and zstd files with any name.
    /// </summary>
    private void WriteInEveryShape(IReadOnlyList<string> records)
    {
        var shapes = new Func<IReadOnlyList<string>, string>[]
        {
            r => string.Join("\n", r) + "\n",
            r => string.Join("\r\n", r) + "\r\n",
            r => string.Join("\n", r.Select(Pretty)) + "\n",
            r => "[\n" + string.Join(",\n", r.Select(Pretty)) + "\n]\n",
            r => string.Concat(r),
        };
        // A Firehose object name (no extension) holds back-to-back records; gzip and zstd are told by their first bytes.
        (string Name, int Shape, Func<byte[], byte[]> Encode)[] files =
        [
            ("lines.json", 0, b => b),
            ("crlf.jsonl", 1, b => b),
            ("pretty.json", 2, b => b),
            ("array.json", 3, b => b),
            ("hits-stream-1-2026-11-24-13-05-00-6f1c2a4e-9d0b-4c53-8e77-0a1b2c3d4e5f", 4, b => b),
            ("gzip-without-extension", 0, Gzip),
            ("pretty.json.gz", 2, Gzip),
            ("events.zst", 4, Zstd),
            ("part-0001", 1, Zstd),
        ];
        var chunk = (records.Count + files.Length - 1) / files.Length;
        for (var f = 0; f < files.Length; f++)
        {
            var part = records.Skip(f * chunk).Take(chunk).ToList();
            for (var minute = 0; minute < 3; minute++)
            {
                var piece = part.Where((_, i) => i % 3 == minute).ToList();
                if (piece.Count == 0) continue;
                var (name, shape, encode) = files[f];
                _data.WriteRawBytes($"{DataLayout.RawMinutePrefix(Hour, minute * 20 + f)}/{name}", encode(Encoding.UTF8.GetBytes(shapes[shape](piece))));
            }
        }

        static byte[] Gzip(byte[] bytes)
        {
            using var output = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest)) gzip.Write(bytes);
            return output.ToArray();
        }

        static byte[] Zstd(byte[] bytes)
        {
            using var output = new MemoryStream();
            using (var zstd = new ZstdSharp.CompressionStream(output)) zstd.Write(bytes);
            return output.ToArray();
        }

        static string Pretty(string record) => JsonNode.Parse(record)!.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
    }

    public void Dispose()
    {
        _duck.Dispose();
        _data.Dispose();
        _oracleData.Dispose();
    }
}
