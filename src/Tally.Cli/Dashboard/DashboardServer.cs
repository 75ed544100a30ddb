using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tally.Query;
using Tally.Scheduling;
using Tally.Workflow;

namespace Tally.Cli.Dashboard;

/// <summary>
/// The dashboard's pages and JSON API on a <see cref="WebApplication"/>: the access check first, then the pages (embedded),
/// <c>/api/…</c>, <c>/healthz</c> and <c>/metrics</c>. API errors are JSON <c>{"error": "…"}</c> with 400 (bad input, a refused
/// statement or one over its memory limit), 404 (nothing by that name), 504 (a query over its time limit) or 503 (storage or
/// the scheduler unavailable, or every query slot taken; with <c>Retry-After</c>).
/// </summary>
internal static class DashboardServer
{
    public static void Map(WebApplication app, DashboardContext context, DashboardOptions options)
    {
        var access = new DashboardAccess(options);
        app.Use((http, next) => access.InvokeAsync(http, next));
        app.Use(ErrorsAsJsonAsync);

        app.MapGet("/", () => StaticAssets.Serve("index.html"));
        app.MapGet("/runs/{id}", (string id) => StaticAssets.Serve("run.html"));
        app.MapGet("/tables", () => StaticAssets.Serve("tables.html"));
        app.MapGet("/charts", () => StaticAssets.Serve("charts.html"));
        app.MapGet("/sql", () => StaticAssets.Serve("sql.html"));
        app.MapGet("/assets/vocabulary.js", () => Results.Text(VocabularyScript, "text/javascript; charset=utf-8"));
        app.MapGet("/assets/{name}", (string name) => StaticAssets.Serve(name));

        app.MapGet("/healthz", () => DashboardResults.Json(new JsonObject { ["status"] = "ok" }));
        app.MapGet("/metrics", async (HttpContext http, CancellationToken ct) =>
        {
            var totals = await context.Statistics.TotalsAsync(ct);
            http.Response.ContentType = PrometheusMetrics.ContentType;
            await PrometheusMetrics.WriteAsync(totals, http.Response.Body, ct);
        });

        var api = app.MapGroup("/api");
        api.MapGet("/runs", (string? hour, string? status, int? limit, CancellationToken ct) => ListRunsAsync(context, hour, status, limit, ct));
        api.MapGet("/runs/{id}", (string id, CancellationToken ct) => ShowRunAsync(context, id, ct));
        api.MapGet("/hours", (int? days, CancellationToken ct) => HoursAsync(context, days, ct));
        api.MapPost("/hours/{hour}/runs", (string hour, HttpContext http) => RerunAsync(context, hour, http));
        api.MapGet("/tables", (int? partitions, CancellationToken ct) => TablesAsync(context, partitions, ct));
        api.MapPost("/query", (QueryRequest? request, CancellationToken ct) => QueryAsync(context, request, ct));
        api.MapGet("/charts/tables", () => DashboardCharts.Tables(context));
        api.MapGet("/charts/hourly", (string? table, string? metric, int? days, int? top, CancellationToken ct) =>
            DashboardCharts.HourlyAsync(context, table, metric, days, top, ct));
        api.MapGet("/charts/hour/{hour}", (string hour, string? table, string? metric, int? top, CancellationToken ct) =>
            DashboardCharts.HourAsync(context, ParseHour(hour), table, metric, top, ct));
        api.MapFallback(() => Results.NotFound(new ApiError("There is no such API endpoint; see the README's Dashboard section.")));
    }

    /// <summary>A <see cref="TallyException"/> becomes a JSON error with its status code; anything else a logged 500.</summary>
    private static async Task ErrorsAsJsonAsync(HttpContext http, RequestDelegate next)
    {
        try
        {
            await next(http);
        }
        catch (TallyException e) when (!http.Response.HasStarted)
        {
            http.Response.StatusCode = e.Kind switch
            {
                TallyErrorKind.NotFound => StatusCodes.Status404NotFound,
                TallyErrorKind.Transient => StatusCodes.Status503ServiceUnavailable,
                // Not 408: browsers resend a request answered 408 on a kept-alive connection (Chromium up to twice), which
                // would run an over-limit query again.
                TallyErrorKind.Timeout => StatusCodes.Status504GatewayTimeout,
                _ => StatusCodes.Status400BadRequest,
            };
            if (e.IsTransient) http.Response.Headers.RetryAfter = "1";
            // An operator wants to know which statements run into the limit (and a test, how many ran).
            if (e.Kind == TallyErrorKind.Timeout)
            {
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Tally.Dashboard")
                    .LogWarning("{Method} {Path} stopped at its time limit: {Message}", http.Request.Method, http.Request.Path, e.Message);
            }
            await DashboardResults.WriteErrorAsync(http.Response, e.Message);
        }
        catch (BadHttpRequestException e) when (!http.Response.HasStarted)
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await DashboardResults.WriteErrorAsync(http.Response, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException && !http.Response.HasStarted)
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Tally.Dashboard").LogError(e, "{Method} {Path} failed.", http.Request.Method, http.Request.Path);
            http.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await DashboardResults.WriteErrorAsync(http.Response, $"Unexpected error: {e.Message}");
        }
    }

    /// <summary>
    /// The run vocabulary for the pages' scripts, <c>tallyVocabulary = {status: {running: "running", …}, outcome: {…}, trigger:
    /// {catchUp: "catch-up", …}}</c> (keys: the enum members in camelCase): the JavaScript's one source of those texts.
    /// </summary>
    private static readonly string VocabularyScript = "\"use strict\";\nconst tallyVocabulary = Object.freeze(" + new JsonObject
    {
        ["status"] = Vocabulary(RunText.Statuses),
        ["outcome"] = Vocabulary(RunText.Outcomes),
        ["trigger"] = Vocabulary(RunText.Triggers),
    }.ToJsonString() + ");\n";

    private static JsonObject Vocabulary<T>(TextMap<T> map) where T : struct, Enum =>
        new(Enum.GetValues<T>().Select(v => KeyValuePair.Create(JsonNamingPolicy.CamelCase.ConvertName(v.ToString()), (JsonNode?)map.Text(v))));

    /// <summary>
    /// The status the API gives a manual run it asked the scheduler for and that is not recorded yet (no slot or lease yet):
    /// the API's own, never a run's in the metastore.
    /// </summary>
    internal const string QueuedStatus = "queued";

    /// <exception cref="TallyException">InvalidArgument when <paramref name="text"/> is not a whole UTC hour.</exception>
    internal static HourWindow ParseHour(string text) => HourWindow.TryParse(text, out var hour)
        ? hour
        : throw TallyException.InvalidArgument($"'{text}' is not an hour; write it as yyyy-MM-ddTHH (UTC), for example 2026-11-24T13.");

    private static async Task<IResult> ListRunsAsync(DashboardContext context, string? hour, string? status, int? limit, CancellationToken ct)
    {
        HourWindow? h = hour is null ? null : ParseHour(hour);
        RunStatus? s = null;
        if (status is not null)
        {
            s = RunText.Statuses.TryParse(status, out var parsed)
                ? parsed
                : throw TallyException.InvalidArgument($"status must be one of {string.Join(", ", RunText.Statuses.Texts)}, not '{status}'.");
        }
        if (limit is < 1 or > 10000) throw TallyException.InvalidArgument("limit must be between 1 and 10000.");
        await context.State.Runs.MarkAbandonedAsync(TimeProvider.System.GetUtcNow(), ct);
        var runs = await context.State.Runs.ListAsync(h, s, limit ?? 100, ct);
        return DashboardResults.Json(new JsonArray([.. runs.Select(r => (JsonNode)RunJson.Run(r))]));
    }

    private static async Task<IResult> ShowRunAsync(DashboardContext context, string id, CancellationToken ct)
    {
        var run = await context.State.Runs.FindAsync(id, ct) ?? throw TallyException.NotFound($"There is no run '{id}'.");
        var steps = await context.State.Runs.ListStepsAsync(run.RunId, ct);
        var events = await context.State.Outbox.ListAsync(run.RunId, 100, ct);
        var deliveries = new List<Events.EventDelivery>();
        foreach (var e in events) deliveries.AddRange(await context.State.Outbox.DeliveriesAsync(e.EventId, ct));
        var json = RunJson.Run(run);
        json["duration_seconds"] = run.EndedAt is { } end ? (end - run.StartedAt).TotalSeconds : null;
        json["steps"] = new JsonArray([.. steps.Select(s => (JsonNode)new JsonObject
        {
            ["state"] = s.State, ["attempt"] = s.Attempt, ["started_at"] = s.StartedAt, ["ended_at"] = s.EndedAt,
            ["duration_seconds"] = s.EndedAt is { } e ? (e - s.StartedAt).TotalSeconds : null, ["outcome"] = s.Outcome.Text(), ["error"] = s.Error,
        })]);
        json["events"] = new JsonArray([.. events.Select(e => (JsonNode)RunJson.Event(e, deliveries))]);
        return DashboardResults.Json(json);
    }

    private static async Task<IResult> HoursAsync(DashboardContext context, int? days, CancellationToken ct)
    {
        var count = days ?? 7;
        if (count is < 1 or > 366) throw TallyException.InvalidArgument("days must be between 1 and 366.");
        var now = TimeProvider.System.GetUtcNow();
        await context.State.Runs.MarkAbandonedAsync(now, ct);
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var from = HourWindow.Containing(today.AddDays(1 - count));
        var hours = await context.Statistics.HoursAsync(from, ct);
        return DashboardResults.Json(new JsonObject
        {
            ["from"] = from.ToString(),
            ["to"] = HourWindow.Containing(today.AddDays(1)).AddHours(-1).ToString(),
            ["now"] = HourWindow.Containing(now).ToString(),
            ["days"] = count,
            ["hours"] = new JsonArray([.. hours.Select(h => (JsonNode)new JsonObject
            {
                ["hour"] = h.Hour.ToString(), ["status"] = h.Status.Text(), ["trigger"] = h.Trigger.Text(), ["run_id"] = h.RunId,
                ["runs"] = h.Runs, ["started_at"] = h.StartedAt, ["ended_at"] = h.EndedAt,
            })]),
        });
    }

    /// <summary>Starts a manual run of the hour through the scheduler (its run limit, one run of an hour at a time) and answers 202.</summary>
    private static async Task<IResult> RerunAsync(DashboardContext context, string text, HttpContext http)
    {
        var hour = ParseHour(text);
        var scheduler = http.RequestServices.GetService<SchedulerService>();
        var requestedAt = TimeProvider.System.GetUtcNow();
        if (scheduler is null || !scheduler.TryLaunchManual(hour))
        {
            return DashboardResults.Error("The scheduler is not running, so no run can be started now.", StatusCodes.Status503ServiceUnavailable);
        }
        // The run is recorded once it has a slot and the hour's lease; name it when that happens within a moment.
        var poll = $"/api/runs?hour={hour}";
        for (var i = 0; i < 40; i++)
        {
            var latest = await context.State.Runs.ListAsync(hour, null, 1, http.RequestAborted);
            if (latest is [var run] && run.Trigger == RunTrigger.Manual && run.StartedAt >= requestedAt.AddSeconds(-1))
            {
                return DashboardResults.Json(new JsonObject { ["hour"] = hour.ToString(), ["trigger"] = RunTrigger.Manual.Text(), ["run_id"] = run.RunId, ["status"] = run.Status.Text(), ["location"] = $"/api/runs/{run.RunId}" },
                    statusCode: StatusCodes.Status202Accepted);
            }
            await Task.Delay(50, http.RequestAborted);
        }
        http.Response.Headers.Location = poll;
        return DashboardResults.Json(new JsonObject { ["hour"] = hour.ToString(), ["trigger"] = RunTrigger.Manual.Text(), ["run_id"] = null, ["status"] = QueuedStatus, ["location"] = poll },
            statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> TablesAsync(DashboardContext context, int? partitions, CancellationToken ct)
    {
        var shown = partitions ?? 48;
        if (shown is < 0 or > 10000) throw TallyException.InvalidArgument("partitions must be between 0 and 10000.");
        var options = context.Settings.ToOptions();
        var configured = options.Tables().ToDictionary(t => (options.AggregatedDatabase, t.Table));
        var tables = new JsonArray();
        foreach (var summary in await context.Catalog.ListTablesAsync(ct))
        {
            var t = summary.Table;
            var parts = shown == 0 ? [] : await context.Catalog.ListPartitionsAsync(t.Database, t.Name, ct);
            var definition = configured.GetValueOrDefault((t.Database, t.Name));
            var isRaw = t.Database == options.RawDatabase && t.Name == options.RawTable;
            tables.Add((JsonNode)new JsonObject
            {
                ["database"] = t.Database, ["name"] = t.Name, ["format"] = t.Format, ["location"] = t.Location,
                ["configured"] = isRaw || definition is not null,
                ["kind"] = t.Location == DataLayout.RawPrefix ? "raw" : "aggregated",
                ["columns"] = new JsonArray([.. t.Columns.Select(c => (JsonNode)ColumnJson(c, definition, isRaw ? options.Source : null))]),
                ["partition_keys"] = new JsonArray([.. t.PartitionKeys.Select(c => (JsonNode)JsonValue.Create(c.Name))]),
                ["partitions"] = summary.Partitions, ["rows"] = summary.Rows, ["bytes"] = summary.Bytes,
                ["recent_partitions"] = new JsonArray([.. parts.OrderByDescending(p => p.Location, StringComparer.Ordinal).Take(shown).Select(p => (JsonNode)new JsonObject
                {
                    ["values"] = new JsonArray([.. p.Values.Select(v => (JsonNode)JsonValue.Create(v))]), ["location"] = p.Location,
                    ["rows"] = p.Rows, ["bytes"] = p.Bytes, ["run_id"] = p.RunId, ["written_at"] = p.WrittenAt,
                })]),
            });
        }
        return DashboardResults.Json(tables);
    }

    /// <summary>
    /// A catalog column, and what the configuration says it is: a raw table's column names its JSON <c>field</c>; an
    /// aggregated table's column is a <c>group_by</c> column or a <c>metric</c> (<c>sum(bytes)</c>, <c>count</c>).
    /// </summary>
    private static JsonObject ColumnJson(TableColumn column, TableDefinition? table, SourceSchema? source)
    {
        var json = new JsonObject { ["name"] = column.Name, ["type"] = column.CatalogType };
        if (source?.Fields.FirstOrDefault(f => f.Column == column.Name) is { } field) json["field"] = field.Name;
        if (table is null) return json;
        if (table.GroupBy.Any(f => f.Column == column.Name)) json["group_by"] = true;
        if (table.Metrics.FirstOrDefault(m => m.Column == column.Name) is { } metric)
        {
            json["metric"] = metric.Field is null ? MetricSpec.FunctionName(metric.Function) : $"{MetricSpec.FunctionName(metric.Function)}({metric.Field.Name})";
        }
        return json;
    }

    internal sealed record QueryRequest(string? Sql);

    private static async Task<IResult> QueryAsync(DashboardContext context, QueryRequest? request, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request?.Sql)) throw TallyException.InvalidArgument("Give the statement as {\"sql\": \"SELECT …\"}.");
        var maxRows = context.Settings.Query.MaxRows;
        var body = await context.QueryAsync((service, token) =>
        {
            using var result = service.Execute(request.Sql, token);
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                json.WriteStartObject();
                json.WriteStartArray("columns");
                foreach (var c in result.Columns)
                {
                    json.WriteStartObject();
                    json.WriteString("name", c.Name);
                    json.WriteString("type", c.Type);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteStartArray("rows");
                long count = 0;
                var truncated = false;
                foreach (var row in result.Rows)
                {
                    if (count == maxRows)
                    {
                        truncated = true;
                        break;
                    }
                    json.WriteStartArray();
                    foreach (var value in row) QueryValues.WriteJson(json, value);
                    json.WriteEndArray();
                    count++;
                }
                json.WriteEndArray();
                json.WriteNumber("row_count", count);
                json.WriteBoolean("truncated", truncated);
                json.WriteEndObject();
            }
            return buffer.ToArray();
        }, ct);
        return Results.Bytes(body, "application/json; charset=utf-8");
    }
}
