namespace Tally.Configuration;

// The declaration sections of Tally's settings file, shared by everything that reads the file: the `tally` command line
// binds them with Microsoft.Extensions.Configuration, the CDK app deserializes them with System.Text.Json at synth. The
// rules of the values live in SourceSchema.Create and AggregationSpec.Resolve; DeclarationBinder reads the words (types,
// functions, formats) and decides what an absent section means.

/// <summary>
/// The settings section <c>Source</c>: the declared raw record. Absent, the source is the seed's six fields with
/// <c>Timestamp</c> as the event time.
/// </summary>
public sealed class SourceSettings
{
    /// <summary>The fields to read, in the raw table's column order.</summary>
    public List<FieldSettings>? Fields { get; set; }

    /// <summary>The timestamp field checked against the hour (<c>outside_window</c>), by name or column; none for no check.</summary>
    public string? EventTime { get; set; }
}

/// <summary>One declared field: <c>{"Name": "geo.country", "Column": "country", "Type": "string"}</c>.</summary>
public sealed class FieldSettings
{
    /// <summary>The JSON name, or a dotted path into nested objects.</summary>
    public string? Name { get; set; }

    /// <summary>The column name; default the name in lower case with dots as underscores.</summary>
    public string? Column { get; set; }

    /// <summary><c>string</c>, <c>int64</c>, <c>double</c>, <c>boolean</c> or <c>timestamp</c>; default <c>string</c>.</summary>
    public string? Type { get; set; }
}

/// <summary>One aggregated table: <c>{"Table": "...", "GroupBy": ["..."], "Format": "parquet", "Metrics": [...]}</c>.</summary>
public sealed class AggregationSettings
{
    public string? Table { get; set; }

    /// <summary>Fields (names or columns) to group by, in the rows' sort order.</summary>
    public List<string>? GroupBy { get; set; }

    /// <summary><c>parquet</c> (default) or <c>json</c>.</summary>
    public string? Format { get; set; }

    /// <summary>The metric columns; default one <c>hitcount</c> count.</summary>
    public List<MetricSettings>? Metrics { get; set; }
}

/// <summary>One metric column: <c>{"Column": "bytes", "Function": "sum", "Field": "bytes"}</c>.</summary>
public sealed class MetricSettings
{
    public string? Column { get; set; }

    /// <summary><c>count</c>, <c>sum</c>, <c>min</c>, <c>max</c> or <c>count_distinct</c>.</summary>
    public string? Function { get; set; }

    /// <summary>The field it reads (name or column); none for <c>count</c>.</summary>
    public string? Field { get; set; }
}

/// <summary>The settings section <c>Catalog</c>: the names the tables are registered under.</summary>
public sealed class CatalogSettings
{
    /// <summary>The database of the raw table; default the seed's <c>demo-raw-data</c>.</summary>
    public string RawDatabase { get; set; } = "demo-raw-data";

    /// <summary>The database of the aggregated tables; default the seed's <c>demo-aggregated-data</c>.</summary>
    public string AggregatedDatabase { get; set; } = "demo-aggregated-data";
}

/// <summary>Turns the declaration sections into the core's schema and specs, with errors that name the settings key.</summary>
public static class DeclarationBinder
{
    /// <summary>The source schema the settings declare; the seed's when <paramref name="source"/> declares no fields.</summary>
    /// <exception cref="TallyException">InvalidConfiguration naming the key.</exception>
    public static SourceSchema Schema(SourceSettings? source)
    {
        if (source?.Fields is not { Count: > 0 } fields)
        {
            if (!string.IsNullOrEmpty(source?.EventTime)) throw Invalid("Source:EventTime is set but Source:Fields declares no field.");
            return SourceSchema.Seed;
        }
        var declared = new List<RawField>();
        for (var i = 0; i < fields.Count; i++)
        {
            var f = fields[i] ?? throw Invalid($"Source:Fields:{i} is empty.");
            var type = RawFieldType.String;
            if (!string.IsNullOrEmpty(f.Type) && !SourceSchema.TryParseType(f.Type, out type))
            {
                throw Invalid($"Source:Fields:{i}:Type '{f.Type}' of '{f.Name}' is not a known type; use {SourceSchema.TypeNames}.");
            }
            var field = new RawField(f.Name ?? "", type);
            declared.Add(string.IsNullOrEmpty(f.Column) ? field : field with { Column = f.Column });
        }
        return SourceSchema.Create(declared, source.EventTime);
    }

    /// <summary>The aggregations the settings declare; the seed's three when none are.</summary>
    /// <exception cref="TallyException">InvalidConfiguration naming the key.</exception>
    public static IReadOnlyList<AggregationSpec> Aggregations(List<AggregationSettings>? aggregations, SourceSchema schema)
    {
        if (aggregations is not { Count: > 0 })
        {
            if (!schema.IsSeed) throw Invalid("Source:Fields declares your own fields, so declare Aggregations too: the default tables group by the seed's fields (CountryCode, Domain, GroupID, UserAgent).");
            return AggregationSpec.Defaults;
        }
        var specs = new List<AggregationSpec>();
        for (var i = 0; i < aggregations.Count; i++)
        {
            var a = aggregations[i] ?? throw Invalid($"Aggregations:{i} is empty.");
            var format = a.Format?.ToLowerInvariant() switch
            {
                null or "" or "parquet" => TableFormat.Parquet,
                "json" => TableFormat.Json,
                _ => throw Invalid($"Aggregations:{i}:Format '{a.Format}' of table '{a.Table}' is not a format; use parquet or json."),
            };
            var metrics = new List<MetricSpec>();
            for (var m = 0; m < (a.Metrics?.Count ?? 0); m++)
            {
                var metric = a.Metrics![m] ?? throw Invalid($"Aggregations:{i}:Metrics:{m} is empty.");
                if (!MetricSpec.TryParseFunction(metric.Function, out var function))
                {
                    throw Invalid($"Aggregations:{i}:Metrics:{m}:Function '{metric.Function}' of table '{a.Table}' is not a function; use {MetricSpec.FunctionNames}.");
                }
                metrics.Add(new MetricSpec(metric.Column ?? "", function, string.IsNullOrEmpty(metric.Field) ? null : metric.Field));
            }
            specs.Add(new AggregationSpec(a.Table ?? "", a.GroupBy?.Where(g => g is not null).ToList() ?? [], format)
            {
                Metrics = metrics.Count > 0 ? metrics : [MetricSpec.HitCount],
            });
        }
        return specs;
    }

    private static TallyException Invalid(string message) => TallyException.InvalidConfiguration(message);
}
