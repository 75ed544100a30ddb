using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Tally.Dashboard.Tests;

/// <summary>The dashboard's pages in a real Chromium, over <c>tally serve</c> on generated data; each test saves screenshots.</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBrowserFacts(DashboardFixture f)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Grid_ShowsEachKnownHoursStatus_AndMarksCatchUpAndLateDataRuns()
    {
        var (context, page, errors) = await f.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync("/");
        await page.Locator("#hour-grid").WaitForAsync();

        async Task Expect(HourWindow hour, string status, string trigger, string glyph)
        {
            var cell = page.Locator($"[data-hour='{hour}']");
            Assert.Equal(status, await cell.GetAttributeAsync("data-status"));
            Assert.Equal(trigger, await cell.GetAttributeAsync("data-trigger"));
            Assert.Equal(glyph, (await cell.InnerTextAsync()).Trim());
        }
        await Expect(f.FailedHour, "failed", "manual", "M");
        await Expect(f.ManualHour, "succeeded", "manual", "M");
        await Expect(f.LateDataHour, "succeeded", "late-data", "L");
        await Expect(f.CatchUpHour, "succeeded", "catch-up", "C");
        Assert.Equal("none", await page.Locator($"[data-hour='{f.FailedHour.AddHours(-1)}']").GetAttributeAsync("data-status"));
        Assert.Equal(7 * 24, await page.Locator("#hour-grid [data-hour]").CountAsync());
        await f.ScreenshotAsync(page, "hours");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task ClickingTheFailedHour_OpensItsRun_WithTheFailurePathAndThePublishedEvent()
    {
        var (context, page, errors) = await f.NewPageAsync();
        await using var _ = context;
        var runId = f.Query($"SELECT run_id FROM runs WHERE target_hour = '{f.FailedHour}' ORDER BY started_at DESC LIMIT 1").Single()[0];
        await page.GotoAsync("/");

        await page.Locator($"a[data-hour='{f.FailedHour}']").ClickAsync();

        await page.WaitForURLAsync($"**/runs/{runId}");
        await page.Locator("#run-status[data-status='failed']").WaitForAsync();
        Assert.Contains("Tally.DataError", await page.Locator("#run-error").InnerTextAsync());
        Assert.Contains("rejected", await page.Locator("#run-error").InnerTextAsync());
        async Task<string?> Outcome(string state) => await page.Locator($"#state-graph [data-state='{state}']").GetAttributeAsync("data-outcome");
        Assert.Equal("succeeded", await Outcome("ComputeTargetHour"));
        Assert.Equal("failed", await Outcome("AggregateHour"));
        Assert.Equal("succeeded", await Outcome("FormatFailure"));
        Assert.Equal("succeeded", await Outcome("PublishFailureEvent"));
        Assert.Equal("failed", await Outcome("Failed"));
        Assert.Equal("not-reached", await Outcome("Succeeded"));
        Assert.Equal(DashboardFixture.BadLines.ToString(System.Globalization.CultureInfo.InvariantCulture),
            (await page.Locator("[data-counter='rejected']").InnerTextAsync()).Trim());
        var published = JsonDocument.Parse(await page.Locator("pre.event").First.InnerTextAsync()).RootElement;
        Assert.Equal("Tally aggregation failed", published.GetProperty("detail-type").GetString());
        Assert.Equal(runId, published.GetProperty("detail").GetProperty("run_id").GetString());
        Assert.Equal("Tally.DataError", published.GetProperty("detail").GetProperty("error").GetString());
        await f.ScreenshotAsync(page, "run-failed");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task RerunButton_StartsAManualRun_ThatThenShowsAsSucceeded()
    {
        var (context, page, errors) = await f.NewPageAsync();
        await using var _ = context;
        var before = f.Query($"SELECT run_id FROM runs WHERE target_hour = '{f.ManualHour}' ORDER BY started_at DESC");
        await page.GotoAsync($"/runs/{before[0][0]}");
        await page.Locator("#run-status[data-status='succeeded']").WaitForAsync();
        await f.ScreenshotAsync(page, "run-succeeded");

        await page.Locator("#rerun").ClickAsync();

        await page.WaitForURLAsync(new Regex("/runs/(?!" + Regex.Escape(before[0][0]) + ")"), new PageWaitForURLOptions { Timeout = (float)Patience.TotalMilliseconds });
        await page.Locator("#run-status[data-status='succeeded']").WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Patience.TotalMilliseconds });
        Assert.Equal("manual", await page.Locator("#run-trigger").InnerTextAsync());
        Assert.Equal(f.ManualHour.ToString(), await page.Locator("#run-hour").InnerTextAsync());
        var newId = page.Url.Split('/').Last();
        var after = f.Query($"SELECT run_id, status, trigger FROM runs WHERE target_hour = '{f.ManualHour}' ORDER BY started_at DESC");
        Assert.Equal(before.Count + 1, after.Count);
        Assert.Equal([newId, "succeeded", "manual"], after[0]);
        Assert.Equal(DashboardFixture.HitsPerHour.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
            (await page.Locator("[data-counter='records']").InnerTextAsync()).Trim());
        await f.ScreenshotAsync(page, "run-rerun");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task HourlyChart_HasOnePointPerProcessedHour_WithTheGeneratedHits()
    {
        var (context, page, errors) = await f.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync("/charts");
        await page.Locator("#hourly[data-ready='true']").WaitForAsync();
        // Both bar charts: they load at once, and either may be drawn first.
        await page.Locator("#domains[data-ready='true']").WaitForAsync();
        await page.Locator("#agents[data-ready='true']").WaitForAsync();

        // Three hours were aggregated (the failed one wrote no partition): the manual, late-data and catch-up hours.
        Assert.Equal("3", await page.Locator("#hourly").GetAttributeAsync("data-points"));
        var total = await page.EvaluateAsync<JsonElement>("() => Chart.getChart('hourly').data.datasets[0].data");
        var points = total.EnumerateArray().Where(v => v.ValueKind != JsonValueKind.Null).Select(v => v.GetInt64()).ToList();
        Assert.Equal([DashboardFixture.HitsPerHour, DashboardFixture.HitsPerHour + DashboardFixture.LateHits, DashboardFixture.HitsPerHour], points);
        Assert.Equal(48, total.GetArrayLength());
        var domains = int.Parse((await page.Locator("#domains").GetAttributeAsync("data-points"))!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(domains, 1, 10);
        Assert.Equal(domains, await page.EvaluateAsync<int>("() => Chart.getChart('domains').data.datasets[0].data.length"));
        await f.ScreenshotAsync(page, "charts");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task SqlBox_ReturnsTheSeedQuerysRows()
    {
        var (context, page, errors) = await f.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync("/sql");
        await page.Locator("#sql").FillAsync("SELECT * FROM \"demo-aggregated-data\".\"hits_by_country\";");

        await page.Locator("#run-sql").ClickAsync();

        await page.Locator("#sql-count[data-rows]").WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Patience.TotalMilliseconds });
        var expected = DuckDbOracle.CountryRows(f.Data);
        Assert.Equal(expected.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.Locator("#sql-count").GetAttributeAsync("data-rows"));
        Assert.Equal(expected.Count, await page.Locator("#sql-table tbody tr").CountAsync());
        Assert.Equal(["countrycode", "hitcount", "year", "month", "day", "hour"], await page.Locator("#sql-table thead th").AllInnerTextsAsync());
        var shown = (await page.EvaluateAsync<string[][]>("() => [...document.querySelectorAll('#sql-table tbody tr')].map(r => [...r.cells].slice(0, 2).map(c => c.innerText))"))
            .Select(r => (Country: r[0] == "NULL" ? null : r[0], Hits: long.Parse(r[1], System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(r => r.Country, StringComparer.Ordinal).ThenBy(r => r.Hits).ToList();
        Assert.Equal(expected.OrderBy(r => r.Country, StringComparer.Ordinal).ThenBy(r => r.Hits).ToList(), shown);
        Assert.Empty(await page.Locator("#sql-error").InnerTextAsync());
        await f.ScreenshotAsync(page, "sql");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task SqlBox_RefusesAWriteStatement()
    {
        var (context, page, errors) = await f.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync("/sql");
        var target = Path.Combine(f.Data, "written-by-sql.csv");
        await page.Locator("#sql").FillAsync($"COPY (SELECT 1) TO '{target}'");

        await page.Locator("#run-sql").ClickAsync();

        var error = page.Locator("#sql-error");
        await Assertions.Expect(error).ToContainTextAsync("refused");
        Assert.Contains("read-only", await error.InnerTextAsync());
        Assert.Equal(0, await page.Locator("#sql-table").CountAsync());
        Assert.False(File.Exists(target));
        await f.ScreenshotAsync(page, "sql-refused");
        // The browser logs the 400 response as a console error; nothing else may fail.
        Assert.All(errors, e => Assert.Contains("400", e));
    }

    [Fact]
    public async Task TablesPage_ListsTheCatalogTables_WithTheirRows()
    {
        var (context, page, errors) = await f.NewPageAsync();
        await using var _ = context;
        await page.GotoAsync("/tables");
        var row = page.Locator("tr[data-table='demo-aggregated-data.hits_by_country']");
        await row.WaitForAsync();

        Assert.Equal(DuckDbOracle.CountryRows(f.Data).Count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
            (await row.Locator("[data-col='rows']").InnerTextAsync()).Trim());
        Assert.Equal("3", (await row.Locator("[data-col='partitions']").InnerTextAsync()).Trim());
        Assert.Equal(1, await page.Locator("tr[data-table='demo-raw-data.raw_data']").CountAsync());
        await f.ScreenshotAsync(page, "tables");
        Assert.Empty(errors);
    }
}
