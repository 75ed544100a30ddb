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
