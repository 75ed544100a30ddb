using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Tally.Dashboard.Tests;

/// <summary>The JSON API, /healthz and /metrics of a real <c>tally serve</c> (Kestrel on 127.0.0.1, a port the system chose).</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardApiFacts(DashboardFixture f)
{
    [Fact]
    public async Task Healthz_AnswersOk()
    {
        var health = await f.GetJsonAsync("/healthz");

        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(IPAddress.Loopback.ToString(), f.Url.Host);
    }

    [Fact]
    public async Task Runs_ListsEveryRunNewestFirst_AndShowsOneWithItsStepsAndEvent()
    {
        var runs = (await f.GetJsonAsync("/api/runs?limit=1000")).EnumerateArray().ToList();
        var recorded = f.Query("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC").Select(r => r[0]).ToList();
        Assert.Equal(recorded, runs.Select(r => r.GetProperty("run_id").GetString()));

        var failed = (await f.GetJsonAsync($"/api/runs?hour={f.FailedHour}&status=failed")).EnumerateArray().Single();
        var run = await f.GetJsonAsync($"/api/runs/{failed.GetProperty("run_id").GetString()}");
        Assert.Equal("Tally.DataError", run.GetProperty("error").GetString());
        Assert.Equal(DashboardFixture.HitsPerHour, run.GetProperty("counters").GetProperty("records").GetInt64());
        Assert.Equal(DashboardFixture.BadLines, run.GetProperty("counters").GetProperty("rejected").GetInt64());
        Assert.Equal(["ComputeTargetHour", "AggregateHour", "FormatFailure", "PublishFailureEvent"],
            run.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("state").GetString()));
        Assert.All(run.GetProperty("steps").EnumerateArray(), s => Assert.True(s.GetProperty("duration_seconds").GetDouble() >= 0));
        var published = run.GetProperty("events").EnumerateArray().Single().GetProperty("event");
        Assert.Equal(failed.GetProperty("run_id").GetString(), published.GetProperty("detail").GetProperty("run_id").GetString());
    }

    [Theory]
    [InlineData("/api/runs/run-that-never-was", HttpStatusCode.NotFound, "There is no run 'run-that-never-was'.")]
    [InlineData("/api/runs?hour=yesterday", HttpStatusCode.BadRequest, "'yesterday' is not an hour")]
    [InlineData("/api/runs?status=great", HttpStatusCode.BadRequest, "status must be one of")]
    [InlineData("/api/charts/hour/2026-02-30T10", HttpStatusCode.BadRequest, "'2026-02-30T10' is not an hour")]
    [InlineData("/api/hours?days=0", HttpStatusCode.BadRequest, "days must be between 1 and 366")]
    [InlineData("/api/nothing-here", HttpStatusCode.NotFound, "no such API endpoint")]
    public async Task BadRequests_AreAnsweredWithAStatusAndAMessage(string path, HttpStatusCode status, string message)
    {
        using var response = await f.Http.GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        Assert.Contains(message, error);
    }

    [Fact]
    public async Task Rerun_OfANonHour_Is400()
    {
        using var response = await f.Http.PostAsync("/api/hours/2026-11-24T13:30/runs", null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is not an hour", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Rerun_Answers202WithTheRunId_AndTheRunSucceeds()
    {
        // The manual hour: its latest run stays a manual success, whatever order the tests run in.
        using var response = await f.Http.PostAsync($"/api/hours/{f.ManualHour}/runs", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var started = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var runId = started.GetProperty("run_id").GetString()!;
        Assert.Equal($"/api/runs/{runId}", started.GetProperty("location").GetString());
        var clock = Stopwatch.StartNew();
        JsonElement run;
        do
        {
            await Task.Delay(100);
            run = await f.GetJsonAsync($"/api/runs/{runId}");
        }
        while (run.GetProperty("status").GetString() == "running" && clock.Elapsed < TimeSpan.FromSeconds(30));
        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal("manual", run.GetProperty("trigger").GetString());
        Assert.Equal(f.ManualHour.ToString(), run.GetProperty("target_hour").GetString());
        Assert.Equal([runId, "succeeded"], f.Query($"SELECT run_id, status FROM runs WHERE target_hour = '{f.ManualHour}' ORDER BY started_at DESC LIMIT 1").Single());
    }

    [Fact]
    public async Task Hours_GiveTheLatestRunOfEachHour()
    {
        var hours = (await f.GetJsonAsync("/api/hours?days=2")).GetProperty("hours").EnumerateArray()
            .ToDictionary(h => h.GetProperty("hour").GetString()!, h => h);

        foreach (var hour in hours.Keys)
        {
            var latest = f.Query($"SELECT run_id, status, trigger FROM runs WHERE target_hour = '{hour}' ORDER BY started_at DESC LIMIT 1").Single();
            string[] shown = [hours[hour].GetProperty("run_id").GetString()!, hours[hour].GetProperty("status").GetString()!, hours[hour].GetProperty("trigger").GetString()!];
            Assert.Equal(latest, shown);
        }
        Assert.Equal("failed", hours[f.FailedHour.ToString()].GetProperty("status").GetString());
        Assert.Equal("late-data", hours[f.LateDataHour.ToString()].GetProperty("trigger").GetString());
        Assert.True(hours[f.LateDataHour.ToString()].GetProperty("runs").GetInt32() >= 2, "the manual run and the late-data run");
    }

    [Fact]
    public async Task Tables_ListTheCatalogTables_WithPartitionsAndRows()
    {
        var tables = (await f.GetJsonAsync("/api/tables")).EnumerateArray().ToDictionary(t => $"{t.GetProperty("database").GetString()}.{t.GetProperty("name").GetString()}");

        Assert.Equal(["demo-aggregated-data.hits_by_country", "demo-aggregated-data.hits_by_domain_and_groupid", "demo-aggregated-data.hits_by_useragent", "demo-raw-data.raw_data"],
            tables.Keys.Order(StringComparer.Ordinal));
        var country = tables["demo-aggregated-data.hits_by_country"];
        Assert.Equal(3, country.GetProperty("partitions").GetInt64());
        Assert.Equal(DuckDbOracle.CountryRows(f.Data).Count, country.GetProperty("rows").GetInt64());
        Assert.Equal(["year", "month", "day", "hour"], country.GetProperty("partition_keys").EnumerateArray().Select(k => k.GetString()));
    }

    [Fact]
    public async Task Query_RunsTheSeedQuery_AndItsRowsMatchDuckDbOverTheFiles()
    {
        using var response = await f.Http.PostAsJsonAsync("/api/query", new { sql = "SELECT * FROM \"demo-aggregated-data\".\"hits_by_country\";" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var rows = result.GetProperty("rows").EnumerateArray()
            .Select(r => (Country: r[0].ValueKind == JsonValueKind.Null ? null : r[0].GetString(), Hits: r[1].GetInt64()))
            .OrderBy(r => r.Country, StringComparer.Ordinal).ThenBy(r => r.Hits).ToList();
        var expected = DuckDbOracle.CountryRows(f.Data).OrderBy(r => r.Country, StringComparer.Ordinal).ThenBy(r => r.Hits).ToList();
        Assert.Equal(expected, rows);
        Assert.Equal(expected.Count, result.GetProperty("row_count").GetInt64());
        Assert.False(result.GetProperty("truncated").GetBoolean());
    }

    [Theory]
    [InlineData("DROP TABLE \"demo-aggregated-data\".\"hits_by_country\"")]
    [InlineData("CREATE TABLE t AS SELECT 1")]
    [InlineData("SELECT 1; DELETE FROM t")]
    [InlineData("ATTACH 'other.db'")]
    public async Task Query_RefusesAnythingButOneSelect_With400(string sql)
    {
        using var response = await f.Http.PostAsJsonAsync("/api/query", new { sql });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        Assert.Contains("read-only", error);
    }

    [Fact]
    public async Task Metrics_ParseAsPrometheusText_WithTheRunHistorysNumbers()
    {
        using var response = await f.Http.GetAsync("/metrics");
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var text = await response.Content.ReadAsStringAsync();

        var families = PrometheusParser.Parse(text);

        Assert.Equal("gauge", families["tally_runs"].Type);
        foreach (var row in f.Query("SELECT status, count(*) FROM runs GROUP BY status"))
        {
            Assert.Equal(double.Parse(row[1], CultureInfo.InvariantCulture), families["tally_runs"].Value("tally_runs", ("status", row[0])));
        }
        // The python parser names a counter's family without its _total suffix.
        var records = f.Query("SELECT sum(json_extract(counters, '$.records')), sum(json_extract(counters, '$.rejected')), count(*) FROM runs WHERE ended_at IS NOT NULL").Single();
        Assert.Equal("counter", families["tally_records"].Type);
        Assert.Equal(double.Parse(records[0], CultureInfo.InvariantCulture), families["tally_records"].Value("tally_records_total"));
        Assert.Equal(double.Parse(records[1], CultureInfo.InvariantCulture), families["tally_records_rejected"].Value("tally_records_rejected_total"));
        Assert.Equal("histogram", families["tally_run_duration_seconds"].Type);
        Assert.Equal(double.Parse(records[2], CultureInfo.InvariantCulture), families["tally_run_duration_seconds"].Value("tally_run_duration_seconds_count"));
        Assert.Equal(double.Parse(records[2], CultureInfo.InvariantCulture), families["tally_run_duration_seconds"].Value("tally_run_duration_seconds_bucket", ("le", "+Inf")));
        Assert.Equal("gauge", families["tally_event_deliveries"].Type);
        Assert.Contains(families["tally_event_deliveries"].Samples, s => s.Labels.GetValueOrDefault("outcome") == "pending");
    }
}
