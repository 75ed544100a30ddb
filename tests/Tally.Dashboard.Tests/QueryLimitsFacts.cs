using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Tally.Dashboard.Tests;

/// <summary>
/// The dashboard's query limits on a real <c>tally serve</c>: a statement over its time limit is interrupted and answered 504
/// within the limit plus a second, one over its memory limit 400, at most <c>Query:MaxRows</c> rows come back, queries beyond
/// the slots and the queue are refused at once (503), and queries run on low-priority threads.
/// </summary>
[Collection(LimitsCollection.Name)]
public sealed class QueryLimitsFacts(LimitsFixture f, Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>20 billion rows: minutes of full CPU without a limit (the statement of the issue).</summary>
    private const string Endless = "SELECT sum(i) FROM range(20000000000) t(i)";

    private const string TimeLimitMessage = "The query ran longer than its time limit of 2 s (Query:Timeout) and was interrupted; narrow it (to some partitions, say) or raise the limit.";

    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Query_OverTheTimeLimit_IsAnswered504_WithinTheLimitPlusOneSecond_SayingSo()
    {
        var clock = Stopwatch.StartNew();

        using var response = await f.Http.PostAsJsonAsync("/api/query", new { sql = Endless });

        var took = clock.Elapsed;
        output.WriteLine($"POST /api/query over its limit of {LimitsFixture.Timeout.TotalSeconds} s was answered after {took.TotalSeconds:F3} s.");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(TimeLimitMessage, await ErrorAsync(response));
        Assert.True(took >= LimitsFixture.Timeout, $"Answered after {took}, before the limit.");
        Assert.True(took < LimitsFixture.Timeout + Grace, $"Answered after {took}, more than a second past the limit of {LimitsFixture.Timeout}.");
    }

    [Fact]
    public async Task Query_OverTheMemoryLimit_IsAnswered400_SayingSo()
    {
        // A serve of its own with the same memory limit and a time limit of minutes: a query thread runs at nice 10, and beside
        // a CPU hog on every core (and the suite's other processes) even a query this cheap took longer than the fixture's 2 s.
        var serve = TallyProcess.Start([("TALLY_Query__MemoryLimit", LimitsFixture.MemoryLimit), ("TALLY_Query__Timeout", "00:05:00")],
            "serve", "--data", f.Data, "--port", "0", "--cron", "0 0 1 1 *");
        try
        {
            using var http = new HttpClient { BaseAddress = await serve.DashboardUrlAsync(), Timeout = TimeSpan.FromMinutes(6) };

            // A hundred strings of 1 MB joined: 100 MB at once for almost no CPU.
            using var response = await http.PostAsJsonAsync("/api/query", new { sql = "SELECT length(string_agg(repeat('x', 1000000), '')) FROM range(100)" });

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.StartsWith("The query needs more memory than its limit of 64 MiB (Query:MemoryLimit) and was stopped: Out of Memory Error", await ErrorAsync(response), StringComparison.Ordinal);
        }
        finally
        {
            serve.Terminate();
            var ended = await serve.EndAsync();
            Assert.True(ended.ExitCode == 0, ended.ToString());
        }
    }

    [Fact]
    public async Task Query_AnswersAtMostMaxRowsRows_AndSaysThereWereMore()
    {
        using var response = await f.Http.PostAsJsonAsync("/api/query", new { sql = "SELECT i FROM range(5000) t(i) ORDER BY i" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(LimitsFixture.MaxRows, body.GetProperty("row_count").GetInt32());
        Assert.True(body.GetProperty("truncated").GetBoolean());
        Assert.Equal(Enumerable.Range(0, LimitsFixture.MaxRows), body.GetProperty("rows").EnumerateArray().Select(r => r[0].GetInt32()));
    }

    [Fact]
    public async Task Queries_BeyondTheSlotsAndTheQueue_AreRefused503AtOnce_AndTheOthersRunAtLowPriority()
    {
        const int Admitted = LimitsFixture.MaxConcurrent + LimitsFixture.MaxQueued;
        var clock = Stopwatch.StartNew();
        var requests = Enumerable.Range(0, Admitted + 1).Select(async _ =>
        {
            using var response = await f.Http.PostAsJsonAsync("/api/query", new { sql = Endless });
            return (response.StatusCode, Error: await ErrorAsync(response), RetryAfter: response.Headers.RetryAfter?.Delta, Took: clock.Elapsed);
        }).ToList();

        // While they run: each on a thread of its own at nice 10 (the scheduler's runs stay at 0).
        IReadOnlyList<int> nice = [];
        while (nice.Count == 0 && clock.Elapsed < LimitsFixture.Timeout)
        {
            nice = f.ThreadNiceValues(Tally.Cli.Dashboard.QuerySlots.ThreadName);
            await Task.Delay(20);
        }
        var answers = await Task.WhenAll(requests);

        Assert.NotEmpty(nice);
        Assert.All(nice, n => Assert.Equal(Tally.Cli.Dashboard.QuerySlots.Nice, n));
        var refused = Assert.Single(answers, a => a.Error.StartsWith("Every dashboard query slot is taken", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("Every dashboard query slot is taken (Query:MaxConcurrent = 2) and the queue is full (Query:MaxQueued = 3); try again in a moment.", refused.Error);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.True(refused.Took < Grace, $"The refusal came after {refused.Took}.");
        // The admitted ones ran to the time limit, two at a time, or waited for a slot until the limit plus a second.
        var ran = answers.Where(a => a.StatusCode == HttpStatusCode.GatewayTimeout).ToList();
        Assert.True(ran.Count >= LimitsFixture.MaxConcurrent, string.Join("\n", answers));
        Assert.All(ran, a => Assert.Equal(TimeLimitMessage, a.Error));
        Assert.All(answers.Except(ran).Except([refused]), a =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, a.StatusCode);
            Assert.Equal("No dashboard query slot came free within 3 s (Query:MaxConcurrent = 2); try again in a moment.", a.Error);
        });
        Assert.True(answers.Max(a => a.Took) < 2 * (LimitsFixture.Timeout + Grace) + Grace, string.Join("\n", answers));
    }

    [Fact]
    public async Task SqlPage_OverTheTimeLimit_ShowsTheError_AfterOneRun_NotAfterTheBrowserResentIt()
    {
        var context = await f.Browser.NewContextAsync(new() { BaseURL = f.Url.ToString() });
        try
        {
            var page = await context.NewPageAsync();
            await page.GotoAsync("/sql");
            // A first query, so the page's connection is kept alive: Chromium resends a request answered 408 on such a one.
            // Sent again until it answers rows: at nice 10 beside a CPU hog even SELECT 1 (DuckDB opens on the query's own
            // thread) outlasted the fixture's 2 s limit once.
            await page.Locator("#sql").FillAsync("SELECT 1");
            for (var attempt = 1; ; attempt++)
            {
                await page.Locator("#run-sql").ClickAsync();
                await page.Locator("#sql-count[data-rows], #sql-error:not(:empty)").First.WaitForAsync();
                if (await page.Locator("#sql-count[data-rows]").CountAsync() > 0) break;
                output.WriteLine($"SELECT 1, attempt {attempt}: {await page.Locator("#sql-error").InnerTextAsync()}");
                Assert.True(attempt < 10, "SELECT 1 never answered rows.");
            }
            await page.Locator("#sql").FillAsync(Endless);
            var clock = Stopwatch.StartNew();
            var stoppedBefore = StoppedAtTheTimeLimit();

            await page.Locator("#run-sql").ClickAsync();
            await page.Locator("#sql-error:not(:empty)").WaitForAsync(new() { Timeout = 30_000 });

            output.WriteLine($"The SQL page showed the time-limit error after {clock.Elapsed.TotalSeconds:F3} s.");
            Assert.Equal(TimeLimitMessage, await page.Locator("#sql-error").InnerTextAsync());
            // It ran once, as serve's log says (answered 408, Chromium resent it on the kept-alive connection twice: 3 runs).
            // The page shows the last answer, so every run was logged before a query sent now, whose line comes after theirs.
            using (var marker = await f.Http.PostAsJsonAsync("/api/query", new { sql = Endless }))
            {
                Assert.Equal(HttpStatusCode.GatewayTimeout, marker.StatusCode);
            }
            await f.Serve.WaitForOutputAsync((_, _) => StoppedAtTheTimeLimit() >= stoppedBefore + 2, "the log line of the stopped queries");
            Assert.Equal(stoppedBefore + 2, StoppedAtTheTimeLimit());
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    /// <summary>How many dashboard queries serve has logged as stopped at their time limit so far.</summary>
    private int StoppedAtTheTimeLimit() =>
        f.Serve.Stdout.Split('\n').Count(l => l.Contains("POST /api/query stopped at its time limit", StringComparison.Ordinal));

    private static async Task<string> ErrorAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonDocument.Parse(text).RootElement.GetProperty("error").GetString() ?? "";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return text;
        }
    }
}
