using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Tally.Query;

namespace Tally.Cli.Dashboard;

/// <summary>
/// The charts' data, read with SQL through the same read-only <see cref="QueryService"/> as <c>tally query</c>, from the
/// aggregated tables grouped by CountryCode, Domain and UserAgent (the seed's three by default).
/// </summary>
internal static class DashboardCharts
{
    /// <summary>
    /// Hits per hour for every hour of the last <paramref name="days"/> days up to the current hour: the total, and the
    /// <paramref name="top"/> countries of the period. Hours without a partition (not processed) are null, hours processed with no hits 0.
    /// </summary>
    public static async Task<IResult> HourlyAsync(DashboardContext context, int? days, int? top, CancellationToken ct)
    {
        var dayCount = days ?? 2;
        var topCount = top ?? 5;
        if (dayCount is < 1 or > 31) throw TallyException.InvalidArgument("days must be between 1 and 31.");
        if (topCount is < 0 or > 20) throw TallyException.InvalidArgument("top must be between 0 and 20.");
        var table = Table(context, "CountryCode");
        var now = HourWindow.Containing(TimeProvider.System.GetUtcNow());
        var from = now.AddHours(1 - (24 * dayCount));
        var hours = HourWindow.Range(from, now.AddHours(1)).ToList();

        var processed = (await context.Catalog.ListPartitionsAsync(context.Settings.ToOptions().AggregatedDatabase, table.Name, ct))
            .Select(p => HourOf(p.Values)).Where(h => h is { } x && x.Start >= from.Start && x.Start <= now.Start).Select(h => h!.Value).ToHashSet();
        var column = QueryService.Identifier(table.Column);
        var key = "year || '-' || month || '-' || day || 'T' || hour";
        var sql = $"""
            SELECT {key} AS h, {column} AS k, sum({QueryService.Identifier(AggregationSpec.CountColumn)})::BIGINT AS hits
            FROM {QueryService.Identifier(table.Database)}.{QueryService.Identifier(table.Name)}
            WHERE {key} >= {QueryService.Literal(from.ToString())} AND {key} <= {QueryService.Literal(now.ToString())}
            GROUP BY ALL
            """;
        var rows = await context.QueryAsync((service, token) =>
        {
            using var result = service.Execute(sql, token);
            return result.Rows.Select(r => (Hour: (string)r[0]!, Key: r[1] as string, Hits: Convert.ToInt64(r[2], CultureInfo.InvariantCulture))).ToList();
        }, ct);

        var totals = rows.GroupBy(r => r.Hour).ToDictionary(g => g.Key, g => g.Sum(r => r.Hits));
        var topKeys = rows.GroupBy(r => r.Key).Select(g => (g.Key, Hits: g.Sum(r => r.Hits)))
            .OrderByDescending(g => g.Hits).ThenBy(g => g.Key, StringComparer.Ordinal).Take(topCount).Select(g => g.Key).ToList();
        JsonNode? Point(HourWindow h, Func<string, long> value) => processed.Contains(h) ? value(h.ToString()) : null;
        return Results.Json(new JsonObject
        {
            ["table"] = $"{table.Database}.{table.Name}",
            ["hours"] = new JsonArray([.. hours.Select(h => (JsonNode)JsonValue.Create(h.ToString()))]),
            ["processed"] = processed.Count,
            ["total"] = new JsonArray([.. hours.Select(h => Point(h, k => totals.GetValueOrDefault(k)))]),
            ["series"] = new JsonArray([.. topKeys.Select(key => (JsonNode)new JsonObject
            {
                ["name"] = key ?? "(null)",
                ["values"] = new JsonArray([.. hours.Select(h => Point(h, k => rows.Where(r => r.Hour == k && r.Key == key).Sum(r => r.Hits)))]),
            })]),
        });
    }

    /// <summary>The <paramref name="top"/> domains and user agents of one hour, by hits.</summary>
    public static async Task<IResult> HourAsync(DashboardContext context, HourWindow hour, int? top, CancellationToken ct)
    {
        var topCount = top ?? 10;
        if (topCount is < 1 or > 100) throw TallyException.InvalidArgument("top must be between 1 and 100.");
        var domains = Table(context, "Domain");
        var agents = Table(context, "UserAgent");
        var start = hour.Start.UtcDateTime;
        var where = string.Create(CultureInfo.InvariantCulture,
            $"year = '{start:yyyy}' AND month = '{start:MM}' AND day = '{start:dd}' AND hour = '{start:HH}'");
        string Top((string Database, string Name, string Column) t) => $"""
            SELECT {QueryService.Identifier(t.Column)} AS k, sum({QueryService.Identifier(AggregationSpec.CountColumn)})::BIGINT AS hits
            FROM {QueryService.Identifier(t.Database)}.{QueryService.Identifier(t.Name)} WHERE {where}
            GROUP BY 1 ORDER BY hits DESC, k LIMIT {topCount.ToString(CultureInfo.InvariantCulture)}
            """;
        var (d, a) = await context.QueryAsync((service, token) =>
        {
            List<(string?, long)> Read(string sql)
            {
                using var result = service.Execute(sql, token);
                return result.Rows.Select(r => (r[0] as string, Convert.ToInt64(r[1], CultureInfo.InvariantCulture))).ToList();
            }
            return (Read(Top(domains)), Read(Top(agents)));
        }, ct);
        JsonArray Items(List<(string? Key, long Hits)> items) =>
            new([.. items.Select(i => (JsonNode)new JsonObject { ["name"] = i.Key ?? "(null)", ["hits"] = i.Hits })]);
        return Results.Json(new JsonObject { ["hour"] = hour.ToString(), ["domains"] = Items(d), ["user_agents"] = Items(a) });
    }

    /// <summary>The configured table grouped by <paramref name="field"/> with the fewest other group-by fields, and its column.</summary>
    private static (string Database, string Name, string Column) Table(DashboardContext context, string field)
    {
        var options = context.Settings.ToOptions();
        var spec = options.Aggregations.Where(a => a.GroupBy.Contains(field, StringComparer.OrdinalIgnoreCase)).MinBy(a => a.GroupBy.Count)
            ?? throw TallyException.NotFound($"No configured table is grouped by {field}, so this chart has no data.");
        return (options.AggregatedDatabase, spec.Table, field.ToLowerInvariant());
    }

    private static HourWindow? HourOf(IReadOnlyList<string> values) =>
        values.Count >= 4 && HourWindow.TryParse($"{values[0]}-{values[1]}-{values[2]}T{values[3]}", out var h) ? h : null;
}
