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

/// <summary>A column of an aggregated table: its name and catalog type (<c>string</c> or <c>bigint</c>).</summary>
public sealed record TableColumn(string Name, string CatalogType);

/// <summary>
/// One aggregation: count the hour's valid records grouped by <see cref="GroupBy"/> into <see cref="Table"/>.
/// Aggregations are data: the engine, the catalog and the Glue job all work from a list of these.
/// </summary>
/// <param name="Table">Table name in the aggregated database (lower-case letters, digits, underscores).</param>
/// <param name="GroupBy">Raw field names to group by, in sort order of the output rows.</param>
/// <param name="Format">File format of the table.</param>
public sealed partial record AggregationSpec(string Table, IReadOnlyList<string> GroupBy, TableFormat Format)
{
    /// <summary>The name of the count column.</summary>
    public const string CountColumn = "hitcount";

    /// <summary>The seed's three tables, with its column names and formats.</summary>
    public static IReadOnlyList<AggregationSpec> Defaults { get; } =
    [
        new("hits_by_country", ["CountryCode"], TableFormat.Parquet),
        new("hits_by_domain_and_groupid", ["Domain", "GroupID"], TableFormat.Json),
        new("hits_by_useragent", ["UserAgent"], TableFormat.Parquet),
    ];

    /// <summary>The group-by fields resolved against <see cref="RawSchema"/>, in <see cref="GroupBy"/> order.</summary>
    /// <exception cref="TallyException">When a name is not a raw field.</exception>
    public IReadOnlyList<RawField> GroupByFields() =>
        GroupBy.Select(name => RawSchema.Find(name)
            ?? throw TallyException.InvalidConfiguration($"Table '{Table}' groups by '{name}', which is not a raw field ({string.Join(", ", RawSchema.Fields.Select(f => f.Name))}).")).ToList();

    /// <summary>
    /// The table's columns as stored: the group-by columns in the raw schema's order (as the seed's Glue tables list them),
    /// then <c>hitcount bigint</c>. Partition columns (year, month, day, hour) are not part of the files.
    /// </summary>
    public IReadOnlyList<TableColumn> Columns()
    {
        var fields = GroupByFields();
        return RawSchema.Fields.Where(fields.Contains)
            .Select(f => new TableColumn(f.Column, f.CatalogType))
            .Append(new TableColumn(CountColumn, "bigint"))
            .ToList();
    }

    /// <summary>The file extension of the table's files, without the dot.</summary>
    public string FileExtension => Format == TableFormat.Parquet ? "parquet" : "json";

    /// <summary>Checks a list of specs: at least one, unique valid table names, known non-repeated fields.</summary>
    /// <exception cref="TallyException">With the first problem found.</exception>
    public static void Validate(IReadOnlyList<AggregationSpec> specs)
    {
        if (specs.Count == 0) throw TallyException.InvalidConfiguration("At least one aggregation must be configured.");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if (string.IsNullOrEmpty(spec.Table) || !TableName().IsMatch(spec.Table))
            {
                throw TallyException.InvalidConfiguration($"'{spec.Table}' is not a valid table name: use lower-case letters, digits and underscores, starting with a letter.");
            }
            if (!names.Add(spec.Table)) throw TallyException.InvalidConfiguration($"Table '{spec.Table}' is configured twice.");
            if (spec.GroupBy is null || spec.GroupBy.Count == 0) throw TallyException.InvalidConfiguration($"Table '{spec.Table}' has no group-by fields.");
            var fields = spec.GroupByFields();
            if (fields.Distinct().Count() != fields.Count) throw TallyException.InvalidConfiguration($"Table '{spec.Table}' groups by the same field twice.");
            if (!Enum.IsDefined(spec.Format)) throw TallyException.InvalidConfiguration($"Table '{spec.Table}' has an unknown format.");
        }
    }

    /// <summary>
    /// Serializes specs as the JSON the Glue job and settings files read:
    /// <c>[{"table": "...", "groupBy": ["..."], "format": "parquet"|"json"}]</c>.
    /// </summary>
    public static string ToJson(IReadOnlyList<AggregationSpec> specs) =>
        JsonSerializer.Serialize(specs.Select(s => new SpecDto(s.Table, [.. s.GroupBy], s.Format == TableFormat.Parquet ? "parquet" : "json")).ToList(), DtoOptions);

    /// <summary>Parses and validates the JSON written by <see cref="ToJson"/>.</summary>
    /// <exception cref="TallyException">When the JSON is malformed or a spec is invalid.</exception>
    public static IReadOnlyList<AggregationSpec> ParseJson(string json)
    {
        List<SpecDto>? dtos;
        try
        {
            dtos = JsonSerializer.Deserialize<List<SpecDto>>(json, DtoOptions);
        }
        catch (JsonException e)
        {
            throw TallyException.InvalidConfiguration($"The aggregation specs are not valid JSON: {e.Message}");
        }
        if (dtos is null) throw TallyException.InvalidConfiguration("The aggregation specs must be a JSON array.");
        if (dtos.Any(d => d is null)) throw TallyException.InvalidConfiguration("Every aggregation spec must be a JSON object, not null.");
        var specs = dtos.Select(d => new AggregationSpec(d.Table ?? "", d.GroupBy ?? [], d.Format?.ToLowerInvariant() switch
        {
            "parquet" => TableFormat.Parquet,
            "json" => TableFormat.Json,
            _ => throw TallyException.InvalidConfiguration($"Table '{d.Table}' has format '{d.Format}'; use parquet or json."),
        })).ToList();
        Validate(specs);
        return specs;
    }

    /// <summary>Equality by value, including the group-by list.</summary>
    public bool Equals(AggregationSpec? other) =>
        other is not null && Table == other.Table && Format == other.Format && GroupBy.SequenceEqual(other.GroupBy);

    public override int GetHashCode() => HashCode.Combine(Table, Format, GroupBy.Count);

    [GeneratedRegex(@"^[a-z][a-z0-9_]{0,127}\z")]
    private static partial Regex TableName();

    private static readonly JsonSerializerOptions DtoOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private sealed record SpecDto(string? Table, List<string>? GroupBy, string? Format);
}
