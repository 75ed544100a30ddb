using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Tally;

/// <summary>One request of a load's mix.</summary>
/// <param name="Name">How the report names it (its path by default).</param>
/// <param name="Json">The body of a POST, as <c>application/json</c>.</param>
internal sealed record LoadRequest(string Name, HttpMethod Method, string Path, string? Json = null)
{
    public static LoadRequest Get(string path, string? name = null) => new(name ?? path, HttpMethod.Get, path);

    public static LoadRequest Post(string path, string json, string? name = null) => new(name ?? path, HttpMethod.Post, path, json);
}

/// <summary>A bounded load: <paramref name="Connections"/> requests at a time, the mix's requests in turn, until
/// <paramref name="MaxRequests"/> were sent, <paramref name="MaxDuration"/> passed or the caller stops it.</summary>
/// <param name="Server">A loopback address only (127.0.0.0/8 or ::1).</param>
/// <param name="AbortOnStop">Whether requests under way when the caller stops the load are abandoned (their connection
/// closed; status 0) instead of awaited.</param>
internal sealed record LoadOptions(Uri Server, IReadOnlyList<LoadRequest> Mix, int Connections, TimeSpan MaxDuration, long MaxRequests, bool AbortOnStop = false);

/// <summary>One answered (or failed) request: its HTTP status (0 when none came), its latency and the error text of a failure.</summary>
internal sealed record LoadSample(string Name, int Status, double Milliseconds, string? Error)
{
    public bool Succeeded => Status is >= 200 and < 300;
}

/// <summary>What a load did: every request with its status and latency.</summary>
internal sealed class LoadReport(IReadOnlyList<LoadSample> samples, TimeSpan duration, int connections)
{
    public IReadOnlyList<LoadSample> Samples { get; } = samples;

    /// <summary>From the first request sent to the last one answered.</summary>
    public TimeSpan Duration { get; } = duration;

    public int Connections { get; } = connections;

    public double RequestsPerSecond => Samples.Count / Math.Max(Duration.TotalSeconds, 1e-9);

    /// <summary>Several loads as one: their requests together, their durations added.</summary>
    public static LoadReport Merge(IReadOnlyList<LoadReport> reports) =>
        new([.. reports.SelectMany(r => r.Samples)], TimeSpan.FromTicks(reports.Sum(r => r.Duration.Ticks)), reports.Max(r => r.Connections));

    /// <summary>The requests answered with anything but a 2xx status, or not answered at all.</summary>
    public IReadOnlyList<LoadSample> Failures => [.. Samples.Where(s => !s.Succeeded)];

    /// <summary>The latency at <paramref name="quantile"/> (0.99 for p99), by nearest rank, in milliseconds; of the requests named <paramref name="name"/>, or all.</summary>
    public double Latency(double quantile, string? name = null)
    {
        var sorted = Samples.Where(s => name is null || s.Name == name).Select(s => s.Milliseconds).Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <summary>A table of the requests by name (count, statuses, p50, p99, max latency) and a total line.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"{"request",-34} {"count",7} {"p50 ms",8} {"p99 ms",8} {"max ms",8}  statuses");
        foreach (var group in Samples.GroupBy(s => s.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var statuses = string.Join(" ", group.GroupBy(s => s.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"));
            text.AppendLine(c, $"{group.Key,-34} {group.Count(),7} {Latency(0.5, group.Key),8:F1} {Latency(0.99, group.Key),8:F1} {group.Max(s => s.Milliseconds),8:F1}  {statuses}");
        }
        text.Append(c, $"{Samples.Count:N0} requests in {Duration.TotalSeconds:F1} s over {Connections} connections: {RequestsPerSecond:F0} requests/s, ");
        text.Append(c, $"p50 {Latency(0.5):F1} ms, p99 {Latency(0.99):F1} ms, max {(Samples.Count > 0 ? Samples.Max(s => s.Milliseconds) : 0):F1} ms, {Failures.Count} not 2xx");
        return text.ToString();
    }
}

/// <summary>
/// A small HTTP load client for the dashboard: a fixed number of connections, each sending the next request of the mix as
/// soon as its previous one was answered (a closed loop: the load never outruns the server), bodies read to the end.
/// Bounded in requests and time, and only ever to a loopback address.
/// </summary>
internal static class LoadClient
{
    /// <summary>Sends the load; requests under way when it stops are awaited and counted, unless <see cref="LoadOptions.AbortOnStop"/>.</summary>
    /// <exception cref="ArgumentException">When the server is not a loopback address, or a bound is not positive.</exception>
    public static async Task<LoadReport> RunAsync(LoadOptions options, CancellationToken stop = default)
    {
        if (!IPAddress.TryParse(options.Server.Host.Trim('[', ']'), out var address) || !IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"The load client sends only to a loopback address (127.0.0.1 or [::1]), not to {options.Server.Host}.", nameof(options));
        }
        if (options.Connections < 1 || options.MaxRequests < 1 || options.MaxDuration <= TimeSpan.Zero || options.Mix.Count == 0)
        {
            throw new ArgumentException("A load needs at least one connection, one request in its mix, a positive duration and a positive request count.", nameof(options));
        }

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Connections, UseProxy = false, AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = options.Server, Timeout = TimeSpan.FromSeconds(120) };
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stop);
        bounded.CancelAfter(options.MaxDuration);
        long sent = 0;
        var clock = Stopwatch.StartNew();

        async Task<List<LoadSample>> Connection()
        {
            var samples = new List<LoadSample>();
            while (!bounded.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref sent);
                if (n > options.MaxRequests) break;
                var request = options.Mix[(int)((n - 1) % options.Mix.Count)];
                samples.Add(await SendAsync(http, request, options.AbortOnStop ? stop : CancellationToken.None));
            }
            return samples;
        }

        var all = await Task.WhenAll(Enumerable.Range(0, options.Connections).Select(_ => Task.Run(Connection)));
        return new LoadReport([.. all.SelectMany(s => s)], clock.Elapsed, options.Connections);
    }

    private static async Task<LoadSample> SendAsync(HttpClient http, LoadRequest request, CancellationToken abort)
    {
        using var message = new HttpRequestMessage(request.Method, request.Path);
        if (request.Json is not null) message.Content = new StringContent(request.Json, Encoding.UTF8, "application/json");
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, abort);
            var body = await response.Content.ReadAsStringAsync(abort);
            var status = (int)response.StatusCode;
            return new LoadSample(request.Name, status, clock.Elapsed.TotalMilliseconds, status is >= 200 and < 300 ? null : body);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            return new LoadSample(request.Name, 0, clock.Elapsed.TotalMilliseconds, "abandoned when the load stopped");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new LoadSample(request.Name, 0, clock.Elapsed.TotalMilliseconds, e.Message);
        }
    }
}

/// <summary>What the load test and the bench's <c>load</c> mode send to <c>tally serve</c>.</summary>
internal static class DashboardLoad
{
    /// <summary>The SQL page's query of the mix: the top countries over every hour of <c>hits_by_country</c>.</summary>
    public const string Query = """SELECT countrycode, sum(hitcount)::BIGINT AS hits FROM "demo-aggregated-data"."hits_by_country" GROUP BY 1 ORDER BY 2 DESC LIMIT 10""";

    /// <summary>A statement over any time limit: 20 billion rows, minutes of full CPU without one.</summary>
    public const string Endless = "SELECT sum(i) FROM range(20000000000) t(i)";

    /// <summary>
    /// Every page and asset, <c>/healthz</c>, <c>/metrics</c>, the JSON API, and the three requests that run DuckDB (the two
    /// charts, one of <paramref name="hour"/>, and <see cref="Query"/>): a fifth of the mix.
    /// </summary>
    public static IReadOnlyList<LoadRequest> Mix(HourWindow hour) =>
    [
        LoadRequest.Get("/"), LoadRequest.Get("/tables"), LoadRequest.Get("/charts"), LoadRequest.Get("/sql"),
        LoadRequest.Get("/assets/app.js"), LoadRequest.Get("/assets/style.css"), LoadRequest.Get("/healthz"), LoadRequest.Get("/metrics"),
        LoadRequest.Get("/api/runs?limit=100"), LoadRequest.Get("/api/hours?days=7"), LoadRequest.Get("/api/tables?partitions=48"),
        LoadRequest.Get("/api/charts/tables"),
        LoadRequest.Get("/api/charts/hourly?days=2", "/api/charts/hourly"),
        LoadRequest.Get($"/api/charts/hour/{hour}", "/api/charts/hour/H"),
        LoadRequest.Post("/api/query", System.Text.Json.JsonSerializer.Serialize(new { sql = Query }), "/api/query"),
    ];

    /// <summary>One request only, <see cref="Endless"/>, for a connection that keeps a query over its limit running.</summary>
    public static IReadOnlyList<LoadRequest> OverLimit() =>
        [LoadRequest.Post("/api/query", System.Text.Json.JsonSerializer.Serialize(new { sql = Endless }), "/api/query (over its limit)")];
}
