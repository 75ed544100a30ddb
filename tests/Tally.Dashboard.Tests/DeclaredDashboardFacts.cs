using System.Globalization;
using System.Net;
using System.Text.Json;
using DuckDB.NET.Data;
using Microsoft.Playwright;

namespace Tally.Dashboard.Tests;

/// <summary>
/// The dashboard over a declared source and declared tables (<see cref="DeclaredDashboardFixture"/>): the API and the pages
/// in Chromium show the declared tables' own columns, group-by columns and metrics, checked against DuckDB over the raw files.
/// </summary>
[Collection(DeclaredDashboardCollection.Name)]
public sealed class DeclaredDashboardFacts(DeclaredDashboardFixture f)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Rows of DuckDB SQL over the fixture's raw files (the declared fields read with json_extract) as <c>key|value</c>, in query order.</summary>
    private List<string> Oracle(string select)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = select.Replace("RAW", $"({DeclaredSource.RawOracle(f.Data)})", StringComparison.Ordinal);
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "(null)" : Number(reader.GetValue(i)))));
        }
        return rows;
    }

    private static string Number(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    private static string Json(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => "(null)",
        JsonValueKind.Number when value.TryGetInt64(out var l) => l.ToString(CultureInfo.InvariantCulture),
        JsonValueKind.Number => value.GetDouble().ToString("R", CultureInfo.InvariantCulture),
        _ => value.GetString()!,
    };

    private string HourFilter(HourWindow hour)
    {
        var s = hour.Start.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"year = '{s:yyyy}' AND month = '{s:MM}' AND day = '{s:dd}' AND hour = '{s:HH}'");
    }

    [Fact]
    public async Task ChartTables_AreTheDeclaredTables_EachByItsFirstGroupByColumn_WithTheMetricsThatCanBeCharted()
    {
        var tables = (await f.GetJsonAsync("/api/charts/tables")).EnumerateArray()
            .Select(t => $"{t.GetProperty("database").GetString()}.{t.GetProperty("table").GetString()} by {t.GetProperty("column").GetString()}: "
                + string.Join(", ", t.GetProperty("metrics").EnumerateArray().Select(m => $"{m.GetProperty("column").GetString()} {m.GetProperty("function").GetString()} {m.GetProperty("type").GetString()}")))
            .ToList();

        // Not first_at (a timestamp) or last_page (a string); users (count_distinct) only where the table groups by one field.
        Assert.Equal(
            ["web.by_country by country: requests count bigint, bytes sum bigint, latency_total sum double",
             "web.by_country_lines by country: requests count bigint, bytes sum bigint, latency_total sum double",
             "web.by_os by os: slowest max double, users count_distinct bigint, requests count bigint"],
            tables);
    }

    [Fact]
    public async Task Hourly_ByDefault_ChartsTheFirstTablesFirstMetric_PerHourAndCountry_AsDuckDbCountsTheRawRecords()
    {
        var data = await f.GetJsonAsync("/api/charts/hourly?days=2&top=3");

        Assert.Equal(["web.by_country", "country", "requests", "count"],
            new[] { "table", "column", "metric", "function" }.Select(p => data.GetProperty(p).GetString()));
        var hours = data.GetProperty("hours").EnumerateArray().Select(h => h.GetString()!).ToList();
        Assert.Equal([f.BusyHour.ToString(), f.EmptyHour.ToString(), f.LastHour.ToString()], data.GetProperty("processed_hours").EnumerateArray().Select(h => h.GetString()));
        var total = data.GetProperty("total").EnumerateArray().Select(Json).ToList();
        Assert.Equal([DeclaredDashboardFixture.BusyRecords.ToString(CultureInfo.InvariantCulture), "0", DeclaredDashboardFixture.LastRecords.ToString(CultureInfo.InvariantCulture)],
            new[] { f.BusyHour, f.EmptyHour, f.LastHour }.Select(h => total[hours.IndexOf(h.ToString())]));
        Assert.Equal(hours.Count - 3, total.Count(v => v == "(null)"));

        var top = Oracle("SELECT coalesce(country, '(null)'), count(*) FROM RAW GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3");
        var series = data.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(top.Select(r => r.Split('|')[0]), series.Select(s => s.GetProperty("name").GetString()));
        foreach (var s in series)
        {
            var name = s.GetProperty("name").GetString()!;
            var values = s.GetProperty("values").EnumerateArray().Select(Json).ToList();
            var where = name == "(null)" ? "country IS NULL" : $"country = '{name}'";
            foreach (var hour in new[] { f.BusyHour, f.LastHour })
            {
                Assert.Equal(Oracle($"SELECT count(*) FROM RAW WHERE {where} AND {HourFilter(hour)}").Single(), values[hours.IndexOf(hour.ToString())]);
            }
            Assert.Equal("0", values[hours.IndexOf(f.EmptyHour.ToString())]);
        }
    }

    [Fact]
    public async Task Hourly_OfAMax_HasTheLargestValuePerHour_AndNoValueForAnHourWithoutRecords()
    {
        var data = await f.GetJsonAsync("/api/charts/hourly?table=by_os&metric=slowest&days=2&top=10");

        Assert.Equal("web.by_os", data.GetProperty("table").GetString());
        var hours = data.GetProperty("hours").EnumerateArray().Select(h => h.GetString()!).ToList();
        var total = data.GetProperty("total").EnumerateArray().Select(Json).ToList();
        foreach (var hour in new[] { f.BusyHour, f.LastHour })
        {
            Assert.Equal(Oracle($"SELECT max(latency_ms) FROM RAW WHERE {HourFilter(hour)}").Single(), total[hours.IndexOf(hour.ToString())]);
        }
        Assert.Equal("(null)", total[hours.IndexOf(f.EmptyHour.ToString())]);
        Assert.Equal(Oracle("SELECT coalesce(os, '(null)') FROM RAW GROUP BY 1 ORDER BY max(latency_ms) DESC NULLS LAST, 1"),
            data.GetProperty("series").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Hourly_OfACountDistinct_HasSeriesButNoTotal()
    {
        var data = await f.GetJsonAsync("/api/charts/hourly?table=by_os&metric=users&top=10");

        Assert.Equal(JsonValueKind.Null, data.GetProperty("total").ValueKind);
        var hours = data.GetProperty("hours").EnumerateArray().Select(h => h.GetString()!).ToList();
        var ios = data.GetProperty("series").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "ios").GetProperty("values").EnumerateArray().Select(Json).ToList();
        Assert.Equal(Oracle($"SELECT count(DISTINCT user_id) FROM RAW WHERE os = 'ios' AND {HourFilter(f.LastHour)}").Single(), ios[hours.IndexOf(f.LastHour.ToString())]);
    }

    [Fact]
    public async Task Hour_TopKeys_OfADoubleSum_AddUpOverTheOtherGroupByColumn()
    {
        var data = await f.GetJsonAsync($"/api/charts/hour/{f.BusyHour}?table=by_country&metric=latency_total&top=3");

        Assert.Equal(["web.by_country", "country", "latency_total"], new[] { "table", "column", "metric" }.Select(p => data.GetProperty(p).GetString()));
        Assert.Equal(
            Oracle($"SELECT coalesce(country, '(null)'), sum(latency_ms) FROM RAW WHERE {HourFilter(f.BusyHour)} GROUP BY country ORDER BY 2 DESC NULLS LAST, country NULLS LAST LIMIT 3"),
            data.GetProperty("items").EnumerateArray().Select(i => $"{i.GetProperty("name").GetString()}|{Json(i.GetProperty("value"))}"));
    }

    [Theory]
    [InlineData("table=by_country&metric=first_at", HttpStatusCode.BadRequest, "cannot chart 'first_at': it is a min of type timestamp, not a number")]
    [InlineData("table=by_country&metric=users", HttpStatusCode.BadRequest, "a count_distinct cannot be added up over the table's other group-by columns (cached)")]
    [InlineData("table=by_country&metric=hitcount", HttpStatusCode.BadRequest, "cannot chart 'hitcount': it is not one of its metric columns; choose one of requests, bytes, latency_total")]
    [InlineData("table=hits_by_country", HttpStatusCode.NotFound, "There is no configured table 'hits_by_country'; the charts can show by_country, by_country_lines, by_os.")]
    public async Task Charts_OfAMetricThatCannotBeCharted_AreRefusedWithTheReason(string query, HttpStatusCode status, string message)
    {
        using var response = await f.Http.GetAsync($"/api/charts/hourly?{query}");

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(message, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task TablesApi_GivesEachTablesCatalogColumns_WithTheirFieldsGroupByColumnsAndMetrics()
    {
        var tables = (await f.GetJsonAsync("/api/tables?partitions=0")).EnumerateArray()
            .ToDictionary(t => $"{t.GetProperty("database").GetString()}.{t.GetProperty("name").GetString()}");

        Assert.Equal(["web-raw.raw_data", "web.by_country", "web.by_country_lines", "web.by_os"], tables.Keys.Order(StringComparer.Ordinal));
        static List<string> Columns(JsonElement table) => table.GetProperty("columns").EnumerateArray().Select(c =>
            $"{c.GetProperty("name").GetString()}:{c.GetProperty("type").GetString()}"
            + (c.TryGetProperty("field", out var field) ? $" <- {field.GetString()}" : "")
            + (c.TryGetProperty("group_by", out _) ? " key" : "")
            + (c.TryGetProperty("metric", out var metric) ? $" = {metric.GetString()}" : "")).ToList();
        Assert.Equal(["user_id:bigint <- user.id", "country:string <- geo.country", "geo_city:string <- geo.city", "page:string <- Page", "bytes:bigint <- bytes",
            "latency_ms:double <- latency", "cached:boolean <- cached", "at:string <- at", "os:string <- client.device.os"], Columns(tables["web-raw.raw_data"]));
        Assert.Equal(["country:string key", "cached:boolean key", "requests:bigint = count", "bytes:bigint = sum(bytes)", "latency_total:double = sum(latency)",
            "first_at:timestamp = min(at)", "last_page:string = max(Page)", "users:bigint = count_distinct(user.id)"], Columns(tables["web.by_country"]));
        Assert.Equal(3, tables["web.by_os"].GetProperty("partitions").GetInt64());
    }

    [Fact]
    public async Task ChartsPage_ShowsTheFirstTablesFirstMetric_AndAnotherMetricWhenPicked()
    {
        var (context, page, errors) = await f.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync("/charts");
        await page.Locator("#hourly[data-ready='true']").WaitForAsync();
        // Both bar charts: they load at once, and either may be drawn first (under load #domains was still empty).
        await page.Locator("#domains[data-ready='true']").WaitForAsync();
        await page.Locator("#agents[data-ready='true']").WaitForAsync();

        var hourly = page.Locator("#hourly");
        Assert.Equal(["web.by_country", "requests", "3"], new[] { await hourly.GetAttributeAsync("data-table") ?? "", await hourly.GetAttributeAsync("data-metric") ?? "", await hourly.GetAttributeAsync("data-points") ?? "" });
        var total = await page.EvaluateAsync<JsonElement>("() => Chart.getChart('hourly').data.datasets[0].data");
        Assert.Equal([DeclaredDashboardFixture.BusyRecords, 0, DeclaredDashboardFixture.LastRecords],
            total.EnumerateArray().Where(v => v.ValueKind != JsonValueKind.Null).Select(v => v.GetInt64()));
        // The two bar charts show the next tables, each by its own first group-by column and first metric, for the latest hour.
        Assert.Equal("web.by_country_lines", await page.Locator("#domains").GetAttributeAsync("data-table"));
        Assert.Equal(["web.by_os", "slowest"], new[] { await page.Locator("#agents").GetAttributeAsync("data-table") ?? "", await page.Locator("#agents").GetAttributeAsync("data-metric") ?? "" });
        Assert.Equal(f.LastHour.ToString(), await page.Locator("#hour").InputValueAsync());
        var slowest = await page.EvaluateAsync<JsonElement>("() => ({ labels: Chart.getChart('agents').data.labels, data: Chart.getChart('agents').data.datasets[0].data })");
        Assert.Equal(Oracle($"SELECT coalesce(os, '(null)'), max(latency_ms) FROM RAW WHERE {HourFilter(f.LastHour)} GROUP BY os ORDER BY 2 DESC NULLS LAST, os NULLS LAST LIMIT 10"),
            slowest.GetProperty("labels").EnumerateArray().Zip(slowest.GetProperty("data").EnumerateArray(), (l, v) => $"{l.GetString()}|{Json(v)}"));
        await f.ScreenshotAsync(page, "charts");

        await page.Locator("#pick-hourly").SelectOptionAsync("by_os/requests");

        await page.Locator("#hourly[data-metric='requests'][data-table='web.by_os']").WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Patience.TotalMilliseconds });
        var series = await page.EvaluateAsync<JsonElement>("() => Chart.getChart('hourly').data.datasets.map(d => d.label)");
        Assert.Equal(new[] { "total" }.Concat(Oracle("SELECT coalesce(os, '(null)') FROM RAW GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 5")), series.EnumerateArray().Select(s => s.GetString()));
        await f.ScreenshotAsync(page, "charts-by-os");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task TablesPage_ListsEachTablesColumnsAndTypes_FromTheCatalog()
    {
        var (context, page, errors) = await f.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync("/tables");
        await page.Locator("tr[data-table='web.by_country']").WaitForAsync();

        async Task<List<string>> Columns(string table) =>
            [.. await page.Locator($"tr[data-table='{table}'] [data-col='columns'] .column").EvaluateAllAsync<string[]>(
                "spans => spans.map(s => s.dataset.column + ':' + s.dataset.type)")];
        Assert.Equal(DeclaredSource.RawColumns, await Columns("web-raw.raw_data"));
        Assert.Equal(DeclaredSource.CountryColumns, await Columns("web.by_country"));
        Assert.Equal(DeclaredSource.CountryColumns, await Columns("web.by_country_lines"));
        Assert.Equal(DeclaredSource.OsColumns, await Columns("web.by_os"));
        Assert.Contains("country string ← geo.country", await page.Locator("tr[data-table='web-raw.raw_data'] [data-column='country']").InnerTextAsync());
        Assert.Contains("latency_total double = sum(latency)", await page.Locator("tr[data-table='web.by_country'] [data-column='latency_total']").InnerTextAsync());
        await f.ScreenshotAsync(page, "tables");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task SqlPage_StartsWithTheFirstDeclaredTablesQuery_AndRunsIt()
    {
        var (context, page, errors) = await f.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync("/sql");
        await Assertions.Expect(page.Locator("#sql")).ToHaveValueAsync("SELECT * FROM \"web\".\"by_country\";");

        await page.Locator("#run-sql").ClickAsync();

        await page.Locator("#sql-count[data-rows]").WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Patience.TotalMilliseconds });
        Assert.Equal(Oracle("SELECT count(*) FROM (SELECT DISTINCT country, cached, year, month, day, hour FROM RAW)").Single(),
            await page.Locator("#sql-count").GetAttributeAsync("data-rows"));
        Assert.Equal(["country", "cached", "requests", "bytes", "latency_total", "first_at", "last_page", "users", "year", "month", "day", "hour"],
            await page.Locator("#sql-table thead th").AllInnerTextsAsync());
        await f.ScreenshotAsync(page, "sql");
        Assert.Empty(errors);
    }
}
