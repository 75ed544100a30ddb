using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Tally;

/// <summary>The file format of an aggregated table.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TableFormat>))]
public enum TableFormat
{
    /// <summary>Apache Parquet, one file per hour (<c>part-00000.parquet</c>).</summary>
    Parquet,
    /// <summary>JSON Lines, one object per row (<c>part-00000.json</c>).</summary>
    Json,
}

/// <summary>A column of a table: its name and catalog type (<see cref="CatalogTypes"/>: <c>string</c>, <c>bigint</c>, <c>double</c>, <c>boolean</c>, <c>timestamp</c>).</summary>
public sealed record TableColumn(string Name, string CatalogType);

/// <summary>
/// One aggregation, as declared: group the hour's valid records by <see cref="GroupBy"/> into <see cref="Table"/> and
/// compute <see cref="Metrics"/> per group. Aggregations are data: the engine, the catalog and the Glue job all work from a
/// list of these, resolved against the source schema (<see cref="Resolve"/>).
/// </summary>
/// <param name="Table">Table name in the aggregated database (lower-case letters, digits, underscores).</param>
/// <param name="GroupBy">Fields (names or columns) to group by, in sort order of the output rows.</param>
/// <param name="Format">File format of the table.</param>
public sealed partial record AggregationSpec(string Table, IReadOnlyList<string> GroupBy, TableFormat Format)
{
    /// <summary>The name of the count column every table has when no metrics are declared.</summary>
    public const string CountColumn = "hitcount";

    /// <summary>The metric columns, in output order; default one count column, <c>hitcount</c>.</summary>
    public IReadOnlyList<MetricSpec> Metrics { get; init; } = [MetricSpec.HitCount];

    /// <summary>The seed's three tables, with its column names and formats.</summary>
    public static IReadOnlyList<AggregationSpec> Defaults { get; } =
    [
        new("hits_by_country", ["CountryCode"], TableFormat.Parquet),
        new("hits_by_domain_and_groupid", ["Domain", "GroupID"], TableFormat.Json),
        new("hits_by_useragent", ["UserAgent"], TableFormat.Parquet),
    ];

    /// <summary>The group-by fields resolved against the seed's schema, in <see cref="GroupBy"/> order.</summary>
    /// <exception cref="TallyException">When a name is not a raw field.</exception>
    internal IReadOnlyList<RawField> GroupByFields() => Resolve(SourceSchema.Seed).GroupBy;

    /// <summary>The table's columns for the seed's schema (see <see cref="Resolve"/>).</summary>
    public IReadOnlyList<TableColumn> Columns() => Resolve(SourceSchema.Seed).Columns;

    /// <summary>The table's columns for <paramref name="schema"/> (see <see cref="Resolve"/>).</summary>
    public IReadOnlyList<TableColumn> Columns(SourceSchema schema) => Resolve(schema).Columns;

    /// <summary>
    /// Resolves the declaration against <paramref name="schema"/>: the group-by fields in <see cref="GroupBy"/> order; the
    /// stored columns, which are the group-by columns in the schema's field order (as the seed's Glue tables list them)
    /// then the metrics in declared order. Partition columns (year, month, day, hour) are not part of the files.
    /// </summary>
    /// <param name="schema">The source schema.</param>
    /// <param name="key">The settings key of this table, named in errors (<c>Aggregations:0</c>); the table's name when null.</param>
    /// <exception cref="TallyException">InvalidConfiguration, one sentence naming the key, for the first problem found.</exception>
    internal TableDefinition Resolve(SourceSchema schema, string? key = null)
    {
        var at = key is null ? $"Table '{Table}'" : $"{key} (table '{Table}')";
        if (string.IsNullOrEmpty(Table) || !TableName().IsMatch(Table))
        {
            throw Invalid($"'{Table}' is not a valid table name: use lower-case letters, digits and underscores, starting with a letter{(key is null ? "" : $" ({key}:Table)")}.");
        }
        if (!Enum.IsDefined(Format)) throw Invalid($"{at} has an unknown format.");
        if (GroupBy is null || GroupBy.Count == 0) throw Invalid($"{at} has no group-by fields.");
        var fields = GroupBy.Select(name => schema.Find(name)
            ?? throw Invalid($"{at} groups by '{name}', which is not a raw field ({string.Join(", ", schema.Fields.Select(f => f.Name))}).")).ToList();
        if (fields.Distinct().Count() != fields.Count) throw Invalid($"{at} groups by the same field twice.");

        var columns = schema.Fields.Where(fields.Contains).Select(f => new TableColumn(f.Column, f.CatalogType)).ToList();
        if (Metrics is null || Metrics.Count == 0) throw Invalid($"{at} has no metrics; leave Metrics out for the default hitcount column.");
        var metrics = new List<TableMetric>();
        for (var i = 0; i < Metrics.Count; i++)
        {
            var metric = Metrics[i] ?? throw Invalid($"{at} has an empty metric (Metrics:{i}).");
            var where = $"{at}, metric {i} ('{metric.Column}')";
            if (string.IsNullOrEmpty(metric.Column) || !RawField.IsValidColumn(metric.Column))
            {
                throw Invalid($"{where}: '{metric.Column}' is not a valid column name; use lower-case letters, digits and underscores, not starting with a digit.");
            }
            if (columns.Any(c => c.Name == metric.Column)) throw Invalid($"{where}: the table already has a column '{metric.Column}'.");
            if (DataLayout.HourKeys.Any(k => k.Key == metric.Column)) throw Invalid($"{where}: '{metric.Column}' is a partition column; choose another name.");
            if (!Enum.IsDefined(metric.Function)) throw Invalid($"{where} has an unknown function; use {MetricSpec.FunctionNames}.");
            var function = MetricSpec.FunctionName(metric.Function);
            RawField? field = null;
            if (metric.Function == MetricFunction.Count)
            {
                if (!string.IsNullOrEmpty(metric.Field)) throw Invalid($"{where}: count counts records and takes no Field; use count_distinct to count the values of '{metric.Field}'.");
            }
            else
            {
                if (string.IsNullOrEmpty(metric.Field)) throw Invalid($"{where}: {function} needs a Field to read.");
                field = schema.Find(metric.Field)
                    ?? throw Invalid($"{where}: Field '{metric.Field}' is not a raw field ({string.Join(", ", schema.Fields.Select(f => f.Name))}).");
                if (metric.Function == MetricFunction.Sum && field.Type is not (RawFieldType.Int64 or RawFieldType.Double))
                {
                    throw Invalid($"{where}: sum over '{field.Name}', a {SourceSchema.TypeName(field.Type)} field; sum needs an int64 or double field.");
                }
            }
            metrics.Add(new TableMetric(metric.Column, metric.Function, field, OutputType(metric.Function, field)));
            columns.Add(new TableColumn(metric.Column, metrics[^1].CatalogType));
        }
        return new TableDefinition(this, fields, metrics, columns);
    }

    /// <summary>The catalog type of a metric's column: counts are bigint, a sum follows its field (bigint or double), min and max keep the field's type.</summary>
    private static string OutputType(MetricFunction function, RawField? field) => function switch
    {
        MetricFunction.Count or MetricFunction.CountDistinct => CatalogTypes.BigInt,
        _ when field!.Type == RawFieldType.Timestamp => CatalogTypes.Timestamp,
        _ => field.CatalogType,
    };

    /// <summary>The file extension of the table's files, without the dot.</summary>
    public string FileExtension => Format == TableFormat.Parquet ? "parquet" : "json";

    /// <summary>Checks a list of specs against the seed's schema (see <see cref="Validate(IReadOnlyList{AggregationSpec}, SourceSchema, string)"/>).</summary>
    /// <exception cref="TallyException">With the first problem found.</exception>
    internal static void Validate(IReadOnlyList<AggregationSpec> specs) => Validate(specs, SourceSchema.Seed);

    /// <summary>Checks a list of specs: at least one, unique valid table names, known non-repeated fields, valid metrics.</summary>
    /// <exception cref="TallyException">With the first problem found.</exception>
    internal static IReadOnlyList<TableDefinition> Validate(IReadOnlyList<AggregationSpec> specs, SourceSchema schema, string? key = null)
    {
        if (specs.Count == 0) throw Invalid("At least one aggregation must be configured.");
        var names = new HashSet<string>(StringComparer.Ordinal);
        var tables = new List<TableDefinition>();
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i] ?? throw Invalid($"{key ?? "Aggregations"}:{i} is empty.");
            var table = spec.Resolve(schema, key is null ? null : $"{key}:{i}");
            if (!names.Add(spec.Table)) throw Invalid($"Table '{spec.Table}' is configured twice.");
            tables.Add(table);
        }
        return tables;
    }

    /// <summary>
    /// Serializes specs as the JSON the Glue job and settings files read:
    /// <c>[{"table": "...", "groupBy": ["..."], "format": "parquet"|"json"}]</c>, with
    /// <c>"metrics": [{"column": "...", "function": "sum", "field": "..."}]</c> when they are not the default hitcount.
    /// </summary>
    public static string ToJson(IReadOnlyList<AggregationSpec> specs) =>
        JsonSerializer.Serialize(specs.Select(s => new SpecDto(s.Table, [.. s.GroupBy], s.Format == TableFormat.Parquet ? "parquet" : "json",
            s.Metrics.SequenceEqual([MetricSpec.HitCount]) ? null
                : s.Metrics.Select(m => (MetricDto?)new MetricDto(m.Column, MetricSpec.FunctionName(m.Function), m.Field)).ToList())).ToList(), SpecJson.Default.ListSpecDto);

    /// <summary>Parses the JSON written by <see cref="ToJson"/> and validates it against the seed's schema.</summary>
    /// <exception cref="TallyException">When the JSON is malformed or a spec is invalid.</exception>
    public static IReadOnlyList<AggregationSpec> ParseJson(string json) => ParseJson(json, SourceSchema.Seed);

    /// <summary>Parses the JSON written by <see cref="ToJson"/> and validates it against <paramref name="schema"/>.</summary>
    /// <exception cref="TallyException">When the JSON is malformed or a spec is invalid.</exception>
    public static IReadOnlyList<AggregationSpec> ParseJson(string json, SourceSchema schema)
    {
        List<SpecDto>? dtos;
        try
        {
            dtos = JsonSerializer.Deserialize(json, SpecJson.Default.ListSpecDto);
        }
        catch (JsonException e)
        {
            throw Invalid($"The aggregation specs are not valid JSON: {e.Message}");
        }
        if (dtos is null) throw Invalid("The aggregation specs must be a JSON array.");
        if (dtos.Any(d => d is null)) throw Invalid("Every aggregation spec must be a JSON object, not null.");
        var specs = dtos.Select(d => new AggregationSpec(d.Table ?? "", d.GroupBy ?? [], d.Format?.ToLowerInvariant() switch
        {
            "parquet" => TableFormat.Parquet,
            "json" => TableFormat.Json,
            _ => throw Invalid($"Table '{d.Table}' has format '{d.Format}'; use parquet or json."),
        })
        {
            Metrics = d.Metrics is null ? [MetricSpec.HitCount] : d.Metrics.Select(m => new MetricSpec(m?.Column ?? "",
                MetricSpec.TryParseFunction(m?.Function, out var f) ? f : throw Invalid($"Table '{d.Table}' has a metric of function '{m?.Function}'; use {MetricSpec.FunctionNames}."),
                m?.Field)).ToList(),
        }).ToList();
        Validate(specs, schema);
        return specs;
    }

    /// <summary>Equality by value, including the group-by and metric lists.</summary>
    public bool Equals(AggregationSpec? other) =>
        other is not null && Table == other.Table && Format == other.Format && GroupBy.SequenceEqual(other.GroupBy) && Metrics.SequenceEqual(other.Metrics);

    public override int GetHashCode() => HashCode.Combine(Table, Format, GroupBy.Count, Metrics.Count);

    private static TallyException Invalid(string message) => TallyException.InvalidConfiguration(message);

    [GeneratedRegex(@"^[a-z][a-z0-9_]{0,127}\z")]
    private static partial Regex TableName();

    /// <summary>The specs' JSON, read and written by code generated at build time (no reflection).</summary>
    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
    [JsonSerializable(typeof(List<SpecDto>))]
    private sealed partial class SpecJson : JsonSerializerContext;

    private sealed record SpecDto(string? Table, List<string>? GroupBy, string? Format,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] List<MetricDto?>? Metrics = null);

    private sealed record MetricDto(string? Column, string? Function,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field = null);
}
