using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;

namespace Tally.Cli.Tests;

/// <summary>The commands that know the schema, run as the real process with a settings file that declares another source.</summary>
public sealed class DeclaredSourceFacts : IDisposable
{
    private static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");
    private readonly TempFolder _temp = new();

    private string Data => _temp.Sub("data");

    /// <summary>The declaration as the data folder's own settings file (<c>&lt;data&gt;/.tally/settings.json</c>), read without --settings.</summary>
    private void Declare()
    {
        Directory.CreateDirectory(Path.Combine(Data, ".tally"));
        File.WriteAllText(Path.Combine(Data, ".tally", "settings.json"), DeclaredSource.Settings);
    }

    [Theory]
    [InlineData("generate", "--hour", "2026-11-24T13", "--hits-per-hour", "100")]
    [InlineData("demo", "--hours", "1", "--hits-per-hour", "100")]
    public async Task Generating_WithADeclaredSource_IsRefusedInOneSentence_AndWritesNothing(params string[] args)
    {
        Declare();

        var result = await Tally.RunAsync([.. args, "--data", Data]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Single(result.StderrLines);
        Assert.StartsWith($"error: tally {args[0]} writes only the seed's fields (GroupID, CountryCode, UserAgent, Language, Domain, Timestamp)", result.StderrText);
        Assert.Contains("write your own raw files under raw_data/year=YYYY/month=MM/day=DD/hour=HH/minute=mm/", result.StderrText);
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(Data, "raw_data")));
        Assert.False(Directory.Exists(Path.Combine(Data, "aggregated_data")));
    }

    private const string Sample = """
        {"user": {"id": 1234, "name": "not declared"}, "geo": {"country": "NZ", "city": "Wellington"}, "Page": "/home", "bytes": 5120,
         "latency": 12.5, "cached": true, "at": "2026-11-24T13:05:00.123+13:00", "client": {"device": {"os": "ios", "version": 17}}, "other": [1, 2]}
        """;

    private async Task<TallyResult> GenerateFromSampleAsync(string data, string sample, int seed = 9)
    {
        var file = _temp.Sub($"sample-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, sample);
        return await Tally.RunAsync("generate", "--data", data, "--hour", "2026-11-24T13", "--hits-per-hour", "600", "--seed", seed.ToString(CultureInfo.InvariantCulture), "--sample", file);
    }

    [Fact]
    public async Task Generate_WithASample_WritesEachDeclaredField_OfItsType_AroundTheSamplesValues_InTheHour()
    {
        Declare();

        var result = await GenerateFromSampleAsync(Data, Sample);

        Assert.True(result.ExitCode == 0, result.ToString());
        var facts = Oracle($"""
            SELECT count(*),
                   count(*) FILTER (json_type(json, '$.user.id') IN ('BIGINT', 'UBIGINT') AND CAST(json_extract(json, '$.user.id') AS BIGINT) BETWEEN 0 AND 2468),
                   count(*) FILTER (json_type(json, '$.geo') = 'OBJECT' AND json_extract_string(json, '$.geo.country') LIKE 'NZ%'),
                   count(*) FILTER (json_extract_string(json, '$.geo.city') LIKE 'Wellington%' AND json_extract_string(json, '$.Page') LIKE '/home%'),
                   count(*) FILTER (json_type(json, '$.bytes') IN ('BIGINT', 'UBIGINT') AND CAST(json_extract(json, '$.bytes') AS BIGINT) BETWEEN 0 AND 10240),
                   count(*) FILTER (json_type(json, '$.latency') IN ('DOUBLE', 'BIGINT', 'UBIGINT') AND CAST(json_extract(json, '$.latency') AS DOUBLE) BETWEEN 0 AND 25),
                   count(*) FILTER (json_type(json, '$.cached') = 'BOOLEAN'),
                   count(*) FILTER (json_extract_string(json, '$.at') LIKE '%+13:00'
                       AND CAST(json_extract_string(json, '$.at') AS TIMESTAMPTZ) >= TIMESTAMPTZ '2026-11-24 13:00:00+00'
                       AND CAST(json_extract_string(json, '$.at') AS TIMESTAMPTZ) < TIMESTAMPTZ '2026-11-24 14:00:00+00'),
                   count(*) FILTER (json_extract_string(json, '$.client.device.os') LIKE 'ios%'),
                   count(*) FILTER (json_exists(json, '$.other') OR json_exists(json, '$.user.name') OR json_exists(json, '$.client.device.version')),
                   count(DISTINCT json_extract_string(json, '$.geo.country')), count(DISTINCT json_extract_string(json, '$.cached'))
            FROM read_json_objects('{Data.Replace("'", "''", StringComparison.Ordinal)}/raw_data/*/*/*/*/*/*.json', format = 'newline_delimited')
            """).Single();
        Assert.Equal(["600", "600", "600", "600", "600", "600", "600", "600", "600", "0"], facts[..10]);
        Assert.InRange(int.Parse(facts[10], CultureInfo.InvariantCulture), 10, 50);
        Assert.Equal("2", facts[11]);
        // tally query's raw view reads every one of them.
        var query = await TallyProcess.RunAsync("query", "--data", Data, "--format", "csv",
            """SELECT count(*), count(user_id), count(country), count(latency_ms), count(cached), count(os) FROM "web-raw"."raw_data" """);
        Assert.True(query.ExitCode == 0, query.ToString());
        Assert.Equal("600,600,600,600,600,600", query.Stdout.Split('\n')[1].Trim());
    }

    [Fact]
    public async Task Generate_WithTheSameSampleAndSeed_WritesTheSameBytes()
    {
        Declare();
        var other = _temp.Sub("other");
        Directory.CreateDirectory(Path.Combine(other, ".tally"));
        File.Copy(Path.Combine(Data, ".tally", "settings.json"), Path.Combine(other, ".tally", "settings.json"));

        Assert.Equal(0, (await GenerateFromSampleAsync(Data, Sample)).ExitCode);
        Assert.Equal(0, (await GenerateFromSampleAsync(other, Sample)).ExitCode);

        var first = Directory.GetFiles(Path.Combine(Data, "raw_data"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(60, first.Count);
        foreach (var file in first) Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(other, Path.GetRelativePath(Data, file))));
    }

    [Theory]
    [InlineData("""{"bytes": "lots"}""", "The sample's 'bytes' is the string \"lots\", but Source:Fields declares it int64")]
    [InlineData("""{"geo": "NZ"}""", "The sample's 'geo' is the string \"NZ\", but Source:Fields reads 'geo.country' inside it")]
    [InlineData("""{"at": "yesterday"}""", "The sample's 'at' is the string \"yesterday\", but Source:Fields declares it timestamp")]
    [InlineData("[1, 2]", "holds no JSON object")]
    public async Task Generate_WithASampleThatDoesNotFitTheDeclaration_IsRefusedInOneSentence(string sample, string message)
    {
        Declare();

        var result = await GenerateFromSampleAsync(Data, sample);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Single(result.StderrLines);
        Assert.Contains(message, result.StderrText);
        Assert.False(Directory.Exists(Path.Combine(Data, "raw_data")));
    }

    [Fact]
    public async Task Generate_WithSettingsThatDeclareOnlyTables_WritesTheSeedsRecords()
    {
        var settings = _temp.Sub("tables-only.json");
        File.WriteAllText(settings, """{ "Aggregations": [ { "Table": "by_language", "GroupBy": ["Language"], "Metrics": [ { "Column": "groups", "Function": "count_distinct", "Field": "GroupID" } ] } ] }""");

        var result = await Tally.RunAsync("generate", "--data", Data, "--settings", settings, "--hour", "2026-11-24T13", "--hits-per-hour", "120");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(60, Directory.GetFiles(Path.Combine(Data, "raw_data"), "*.json", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task Query_AnswersFromTheDeclaredDatabases_WithTimestampsInUtc_WhateverTheMachinesTimeZone()
    {
        Declare();
        DeclaredSource.WriteRaw(Data, Hour, 300, seed: 11);
        DeclaredSource.WriteTables(Data, Hour);
        const string sql = """SELECT country, cached, requests, first_at FROM "web"."by_country_lines" ORDER BY country NULLS FIRST, cached NULLS FIRST""";

        var results = new List<ProcessResult>();
        foreach (var zone in new[] { "UTC", "Pacific/Auckland", "America/Los_Angeles" })
        {
            results.Add(await TallyProcess.Start([("TZ", zone)], "query", "--data", Data, "--format", "json", sql).EndAsync());
        }

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        Assert.Single(results.Select(r => r.Stdout).Distinct());
        var shown = JsonDocument.Parse(results[0].Stdout).RootElement.EnumerateArray().Select(r => string.Join('|',
            r.GetProperty("country").GetString() ?? "NULL", r.GetProperty("cached").ValueKind == JsonValueKind.Null ? "NULL" : r.GetProperty("cached").GetRawText(),
            r.GetProperty("requests").GetInt64(),
            DateTime.Parse(r.GetProperty("first_at").GetString()!, CultureInfo.InvariantCulture).ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture))).ToList();
        var expected = Oracle($"""
            SELECT coalesce(country, 'NULL'), coalesce(CAST(cached AS VARCHAR), 'NULL'), count(*), strftime(min(CAST("at" AS TIMESTAMPTZ)), '%Y-%m-%d %H:%M:%S.%f')
            FROM ({DeclaredSource.RawOracle(Data)}) GROUP BY country, cached ORDER BY country NULLS FIRST, cached NULLS FIRST
            """).Select(r => string.Join('|', r)).ToList();
        Assert.True(expected.Count > 10, "too few groups to say much");
        Assert.Equal(expected, shown);
    }

    [Fact]
    public async Task CatalogLs_ListsTheDeclaredTables_AndNotTheSeeds()
    {
        Declare();

        var result = await TallyProcess.RunAsync("catalog", "ls", "--data", Data, "--format", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var tables = JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray()
            .Select(t => $"{t.GetProperty("database").GetString()}.{t.GetProperty("table").GetString()} {t.GetProperty("columns").GetInt32()}").ToList();
        Assert.Equal(["web.by_country 8", "web.by_country_lines 8", "web.by_os 4", "web-raw.raw_data 9"], tables);
        Assert.Empty(MetastoreRows.Read(Path.Combine(Data, ".tally"), "SELECT name FROM tables WHERE database_name LIKE 'demo-%'"));
    }

    /// <summary>Rows of <paramref name="sql"/> in DuckDB (UTC), each value as text ("" for null).</summary>
    private static List<string[]> Oracle(string sql)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SET TimeZone = 'UTC'";
        command.ExecuteNonQuery();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read())
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)!).ToArray());
        }
        return rows;
    }

    public void Dispose() => _temp.Dispose();
}
