using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Tally.Query;

namespace Tally.Cli.Dashboard;

/// <summary>
/// The charts' data, read with SQL through the same read-only <see cref="QueryService"/> as <c>tally query</c>, from the
/// configured tables: a chart shows one table's metric column per value of its first group-by column. A request names the
/// table and metric (<c>?table=…&amp;metric=…</c>); by default the first table with a metric to chart, and its first such metric.
/// </summary>
/// <remarks>
/// Each row of a table is one group of one hour, so a value per hour and key is the table's own when the table groups by
/// one field; with more, the rows of a key are combined over the other fields: counts and sums add up, a min is the least,
/// a max the largest. A count_distinct cannot be combined, so it is charted only for tables grouped by one field, and has no
/// total. Only numeric metrics (bigint, double) are charted.
/// </remarks>
internal static class DashboardCharts
{
    /// <summary>The tables the charts can show, in the configured order, each with its metrics that can be charted.</summary>
    public static IResult Tables(DashboardContext context) =>
        DashboardResults.Json(new JsonArray([.. ChartTables(context.Settings.ToOptions()).Select(t => (JsonNode)new JsonObject
        {
            ["database"] = t.Database,
            ["table"] = t.Table.Table,
            ["group_by"] = new JsonArray([.. t.Table.GroupBy.Select(f => (JsonNode)JsonValue.Create(f.Column))]),
            ["column"] = t.Column,
            ["metrics"] = new JsonArray([.. t.Metrics.Select(m => (JsonNode)new JsonObject
            {
                ["column"] = m.Metric.Column, ["function"] = MetricSpec.FunctionName(m.Metric.Function), ["type"] = m.Metric.CatalogType,
                ["field"] = m.Metric.Field?.Name, ["total"] = m.HasTotal,
            })]),
        })]));

    /// <summary>
    /// The metric per hour for every hour of the last <paramref name="days"/> days up to the current hour: the total over
    /// all keys (null when the metric has none), and the <paramref name="top"/> keys of the period (largest combined value
    /// first). Hours without a partition (not processed) are null; processed hours without a row are 0 for counts and sums.
    /// </summary>
    public static async Task<IResult> HourlyAsync(DashboardContext context, string? table, string? metric, int? days, int? top, CancellationToken ct)
    {
        var dayCount = days ?? 2;
        var topCount = top ?? 5;
        if (dayCount is < 1 or > 31) throw TallyException.InvalidArgument("days must be between 1 and 31.");
        if (topCount is < 0 or > 20) throw TallyException.InvalidArgument("top must be between 0 and 20.");
        var (chart, chosen) = Choose(context, table, metric);
        var now = HourWindow.Containing(TimeProvider.System.GetUtcNow());
        var from = now.AddHours(1 - (24 * dayCount));
        var hours = HourWindow.Range(from, now.AddHours(1)).ToList();

        var processed = (await context.Catalog.ListPartitionsAsync(chart.Database, chart.Table.Table, ct))
            .Select(p => HourOf(p.Values)).Where(h => h is { } x && x.Start >= from.Start && x.Start <= now.Start).Select(h => h!.Value).ToHashSet();
        var hour = "year || '-' || month || '-' || day || 'T' || hour";
        // One scan: each (hour, key), each hour's total and each key's value over the period, told apart by GROUPING().
        var sql = $"""
            SELECT h, k, CAST({chosen.Combine}(v) AS {QueryService.DuckType(chosen.Metric.CatalogType)}) AS v, GROUPING(h) AS all_hours, GROUPING(k) AS all_keys
            FROM (SELECT {hour} AS h, CAST({QueryService.Identifier(chart.Column)} AS VARCHAR) AS k, {QueryService.Identifier(chosen.Metric.Column)} AS v
                  FROM {From(chart)}
                  WHERE {hour} >= {QueryService.Literal(from.ToString())} AND {hour} <= {QueryService.Literal(now.ToString())})
            GROUP BY GROUPING SETS ((h, k), (h), (k))
            """;
        var rows = await context.QueryAsync((service, token) =>
        {
            using var result = service.Execute(sql, token);
            return result.Rows.Select(r => (Hour: r[0] as string, Key: r[1] as string, Value: r[2], AllHours: Convert.ToInt32(r[3], CultureInfo.InvariantCulture) == 1,
                AllKeys: Convert.ToInt32(r[4], CultureInfo.InvariantCulture) == 1)).ToList();
        }, ct);

        var cells = rows.Where(r => !r.AllHours && !r.AllKeys).ToDictionary(r => (r.Hour!, r.Key), r => r.Value);
        var totals = rows.Where(r => !r.AllHours && r.AllKeys).ToDictionary(r => r.Hour!, r => r.Value);
        var topKeys = rows.Where(r => r.AllHours && !r.AllKeys)
            .OrderByDescending(r => r.Value is null ? double.NegativeInfinity : Convert.ToDouble(r.Value, CultureInfo.InvariantCulture))
            .ThenBy(r => r.Key, StringComparer.Ordinal).Take(topCount).Select(r => r.Key).ToList();
        // A processed hour without rows: nothing was counted (0), but there is no least or largest value.
        var none = chosen.Combine == "sum" ? 0L : (object?)null;
        JsonNode? Point(HourWindow h, Func<string, object?> value) => processed.Contains(h) ? Number(value(h.ToString())) : null;
        return DashboardResults.Json(new JsonObject
        {
            ["table"] = $"{chart.Database}.{chart.Table.Table}",
            ["column"] = chart.Column,
            ["metric"] = chosen.Metric.Column,
            ["function"] = MetricSpec.FunctionName(chosen.Metric.Function),
            ["hours"] = new JsonArray([.. hours.Select(h => (JsonNode)JsonValue.Create(h.ToString()))]),
            ["processed"] = processed.Count,
            ["processed_hours"] = new JsonArray([.. hours.Where(processed.Contains).Select(h => (JsonNode)JsonValue.Create(h.ToString()))]),
            ["total"] = chosen.HasTotal ? new JsonArray([.. hours.Select(h => Point(h, k => totals.GetValueOrDefault(k, none)))]) : null,
            ["series"] = new JsonArray([.. topKeys.Select(key => (JsonNode)new JsonObject
            {
                ["name"] = key ?? "(null)",
                ["values"] = new JsonArray([.. hours.Select(h => Point(h, k => cells.GetValueOrDefault((k, key), none)))]),
            })]),
        });
    }

    /// <summary>The <paramref name="top"/> keys of one hour, largest value of the metric first.</summary>
    public static async Task<IResult> HourAsync(DashboardContext context, HourWindow hour, string? table, string? metric, int? top, CancellationToken ct)
    {
        var topCount = top ?? 10;
        if (topCount is < 1 or > 100) throw TallyException.InvalidArgument("top must be between 1 and 100.");
        var (chart, chosen) = Choose(context, table, metric);
        var where = string.Join(" AND ", DataLayout.HourKeys.Zip(DataLayout.HourPartitionValues(hour), (k, v) => $"{QueryService.Identifier(k.Key)} = {QueryService.Literal(v)}"));
        var sql = $"""
            SELECT CAST({QueryService.Identifier(chart.Column)} AS VARCHAR) AS k,
                   CAST({chosen.Combine}({QueryService.Identifier(chosen.Metric.Column)}) AS {QueryService.DuckType(chosen.Metric.CatalogType)}) AS v
            FROM {From(chart)} WHERE {where}
            GROUP BY 1 ORDER BY v DESC NULLS LAST, k NULLS LAST LIMIT {topCount.ToString(CultureInfo.InvariantCulture)}
            """;
        var items = await context.QueryAsync((service, token) =>
        {
            using var result = service.Execute(sql, token);
            return result.Rows.Select(r => (Key: r[0] as string, Value: r[1])).ToList();
        }, ct);
        return DashboardResults.Json(new JsonObject
        {
            ["hour"] = hour.ToString(),
            ["table"] = $"{chart.Database}.{chart.Table.Table}",
            ["column"] = chart.Column,
            ["metric"] = chosen.Metric.Column,
            ["function"] = MetricSpec.FunctionName(chosen.Metric.Function),
            ["items"] = new JsonArray([.. items.Select(i => (JsonNode)new JsonObject { ["name"] = i.Key ?? "(null)", ["value"] = Number(i.Value) })]),
        });
    }

    /// <summary>The configured tables with at least one metric to chart, in the configured order.</summary>
    internal static IReadOnlyList<ChartTable> ChartTables(TallyOptions options) =>
        options.Tables()
            .Select(t => new ChartTable(options.AggregatedDatabase, t, t.GroupBy[0].Column,
                t.Metrics.Where(m => WhyNot(t, m) is null).Select(m => new ChartMetric(m, Combine(m.Function), m.Function != MetricFunction.CountDistinct)).ToList()))
            .Where(t => t.Metrics.Count > 0)
            .ToList();

    /// <summary>The table and metric a request names, or the defaults: the first table to chart and its first metric.</summary>
    /// <exception cref="TallyException">NotFound when no such table is configured or none has a metric to chart; InvalidArgument when the metric cannot be charted.</exception>
    private static (ChartTable Table, ChartMetric Metric) Choose(DashboardContext context, string? table, string? metric)
    {
        var options = context.Settings.ToOptions();
        var tables = ChartTables(options);
        if (tables.Count == 0)
        {
            throw TallyException.NotFound("No configured table has a metric the charts can draw (a count, or a sum, min, max or count_distinct of a number); the SQL page shows any table.");
        }
        var chart = tables[0];
        if (!string.IsNullOrEmpty(table))
        {
            chart = tables.FirstOrDefault(t => t.Table.Table == table) ?? throw TallyException.NotFound(
                options.Tables().Any(t => t.Table == table)
                    ? $"Table '{table}' has no metric the charts can draw; they can show {string.Join(", ", tables.Select(t => t.Table.Table))}."
                    : $"There is no configured table '{table}'; the charts can show {string.Join(", ", tables.Select(t => t.Table.Table))}.");
        }
        if (string.IsNullOrEmpty(metric)) return (chart, chart.Metrics[0]);
        if (chart.Metrics.FirstOrDefault(m => m.Metric.Column == metric) is { } chosen) return (chart, chosen);
        var reason = chart.Table.Metrics.FirstOrDefault(m => m.Column == metric) is { } declared
            ? WhyNot(chart.Table, declared)
            : "it is not one of its metric columns";
        throw TallyException.InvalidArgument(
            $"Table '{chart.Table.Table}' cannot chart '{metric}': {reason}; choose one of {string.Join(", ", chart.Metrics.Select(m => m.Metric.Column))}.");
    }

    /// <summary>Why <paramref name="metric"/> cannot be charted, or null when it can.</summary>
    private static string? WhyNot(TableDefinition table, TableMetric metric)
    {
        if (metric.CatalogType is not (CatalogTypes.BigInt or CatalogTypes.Double))
        {
            return $"it is a {MetricSpec.FunctionName(metric.Function)} of type {metric.CatalogType}, not a number";
        }
        if (metric.Function == MetricFunction.CountDistinct && table.GroupBy.Count > 1)
        {
            return $"a count_distinct cannot be added up over the table's other group-by columns ({string.Join(", ", table.GroupBy.Skip(1).Select(f => f.Column))})";
        }
        return null;
    }

    /// <summary>How rows of one key are combined: counts and sums add up, a min is the least, a max the largest; a count_distinct has one row per key and hour (max of one value).</summary>
    private static string Combine(MetricFunction function) => function switch
    {
        MetricFunction.Count or MetricFunction.Sum => "sum",
        MetricFunction.Min => "min",
        _ => "max",
    };

    private static string From(ChartTable chart) => $"{QueryService.Identifier(chart.Database)}.{QueryService.Identifier(chart.Table.Table)}";

    private static JsonNode? Number(object? value) => value switch
    {
        null => null,
        long l => JsonValue.Create(l),
        double d when double.IsFinite(d) => JsonValue.Create(d),
        double => null,
        _ => JsonValue.Create(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
    };

    private static HourWindow? HourOf(IReadOnlyList<string> values) =>
        values.Count >= 4 && HourWindow.TryParse($"{values[0]}-{values[1]}-{values[2]}T{values[3]}", out var h) ? h : null;
}

/// <summary>A configured table as the charts show it: keyed by its first group-by column, with the metrics that can be charted.</summary>
internal sealed record ChartTable(string Database, TableDefinition Table, string Column, IReadOnlyList<ChartMetric> Metrics);

/// <summary>A metric the charts can draw: how rows of one key combine (<c>sum</c>, <c>min</c>, <c>max</c>) and whether keys add up to a total.</summary>
internal sealed record ChartMetric(TableMetric Metric, string Combine, bool HasTotal);
