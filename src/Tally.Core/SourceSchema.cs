using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tally;

/// <summary>
/// The declared shape of the raw records (settings <c>Source</c>): the fields Tally reads, each with its JSON name (a dotted
/// path into nested objects), column and type, and the field whose time is checked against the hour. Every other value of
/// a record is skipped, but must still be valid JSON. Immutable and thread-safe.
/// </summary>
public sealed partial class SourceSchema
{
    /// <summary>Partition columns of the raw table; no field may use their names.</summary>
    private static readonly string[] ReservedColumns = ["year", "month", "day", "hour", "minute"];

    private SourceSchema(IReadOnlyList<RawField> fields, RawField? eventTime)
    {
        Fields = fields;
        EventTime = eventTime;
    }

    /// <summary>The seed's schema: GroupID, CountryCode, UserAgent, Language, Domain, Timestamp; event time Timestamp.</summary>
    public static SourceSchema Seed { get; } = new(RawSchema.Fields, RawSchema.Timestamp);

    /// <summary>The fields, in the raw table's column order.</summary>
    public IReadOnlyList<RawField> Fields { get; }

    /// <summary>The timestamp field checked against the hour (<c>outside_window</c>); null for no check.</summary>
    public RawField? EventTime { get; }

    /// <summary>Whether this is the seed's schema (no declaration, or one equal to it).</summary>
    public bool IsSeed => ReferenceEquals(this, Seed) || (Fields.SequenceEqual(Seed.Fields) && EventTime == Seed.EventTime);

    /// <summary>
    /// A schema of <paramref name="fields"/> whose event time is the field <paramref name="eventTime"/> names (by name or
    /// column; null for none).
    /// </summary>
    /// <param name="fields">The fields, in column order.</param>
    /// <param name="eventTime">The timestamp field checked against the hour, or null.</param>
    /// <param name="key">The settings key the declaration came from, named in errors (<c>Source</c>).</param>
    /// <exception cref="TallyException">InvalidConfiguration, one sentence naming the key, for the first problem found.</exception>
    public static SourceSchema Create(IReadOnlyList<RawField> fields, string? eventTime, string key = "Source")
    {
        if (fields.Count == 0) throw Invalid($"{key}:Fields must declare at least one field.");
        var names = new HashSet<string>(StringComparer.Ordinal);
        var columns = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            var at = $"{key}:Fields:{i}";
            if (string.IsNullOrWhiteSpace(field.Name)) throw Invalid($"{at}:Name is missing: every field needs its JSON name.");
            if (field.Path.Any(string.IsNullOrEmpty)) throw Invalid($"{at}:Name '{field.Name}' has an empty part: write a dotted path as 'geo.country'.");
            if (!Enum.IsDefined(field.Type)) throw Invalid($"{at}:Type of '{field.Name}' is not a known type.");
            if (!RawField.IsValidColumn(field.Column))
            {
                throw Invalid($"{at}:Column '{field.Column}' of '{field.Name}' is not a valid column name: use lower-case letters, digits and underscores, not starting with a digit (set Column to choose one).");
            }
            if (ReservedColumns.Contains(field.Column)) throw Invalid($"{at}:Column '{field.Column}' is a partition column of the raw table; set Column to another name.");
            if (!names.Add(field.Name)) throw Invalid($"{at}:Name '{field.Name}' is declared twice.");
            if (!columns.Add(field.Column)) throw Invalid($"{at}:Column '{field.Column}' is used by two fields; set Column to tell them apart.");
        }
        foreach (var field in fields)
        {
            // "geo" as a value and "geo.country" inside it cannot both be.
            var parent = fields.FirstOrDefault(f => field.Name.StartsWith(f.Name + ".", StringComparison.Ordinal));
            if (parent is not null) throw Invalid($"{key}:Fields declares '{parent.Name}' and '{field.Name}' inside it; a field is either a value or an object holding fields.");
        }
        RawField? time = null;
        if (!string.IsNullOrEmpty(eventTime))
        {
            var schema = new SourceSchema(fields, null);
            time = schema.Find(eventTime) ?? throw Invalid($"{key}:EventTime '{eventTime}' names no field of {key}:Fields ({string.Join(", ", fields.Select(f => f.Name))}).");
            if (time.Type != RawFieldType.Timestamp) throw Invalid($"{key}:EventTime '{eventTime}' is a field of type {TypeName(time.Type)}; it must be a timestamp.");
        }
        return new SourceSchema([.. fields], time);
    }

    /// <summary>
    /// The field <paramref name="name"/> names: its JSON name, else its column, exactly; else the one field whose name or
    /// column equals it in any case. Null when none (or several in any case).
    /// </summary>
    internal RawField? Find(string name)
    {
        foreach (var f in Fields)
        {
            if (f.Name == name) return f;
        }
        foreach (var f in Fields)
        {
            if (f.Column == name) return f;
        }
        var matches = Fields.Where(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(f.Column, name, StringComparison.OrdinalIgnoreCase)).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>The position of <paramref name="field"/> in <see cref="Fields"/>.</summary>
    /// <exception cref="ArgumentException">When it is not one of them.</exception>
    public int IndexOf(RawField field)
    {
        for (var i = 0; i < Fields.Count; i++)
        {
            if (ReferenceEquals(Fields[i], field)) return i;
        }
        for (var i = 0; i < Fields.Count; i++)
        {
            if (Fields[i] == field) return i;
        }
        throw new ArgumentException($"'{field.Name}' is not a field of the source schema.", nameof(field));
    }

    /// <summary>The settings word of a type: <c>string</c>, <c>int64</c>, <c>double</c>, <c>boolean</c>, <c>timestamp</c>.</summary>
    public static string TypeName(RawFieldType type) => type switch
    {
        RawFieldType.Int64 => "int64",
        RawFieldType.Double => "double",
        RawFieldType.Boolean => "boolean",
        RawFieldType.Timestamp => "timestamp",
        _ => "string",
    };

    /// <summary>The type a settings word names, in any case; false for anything else.</summary>
    internal static bool TryParseType(string? text, out RawFieldType type)
    {
        foreach (var candidate in Enum.GetValues<RawFieldType>())
        {
            if (string.Equals(TypeName(candidate), text, StringComparison.OrdinalIgnoreCase))
            {
                type = candidate;
                return true;
            }
        }
        type = default;
        return false;
    }

    /// <summary>The type words, for error messages.</summary>
    public static string TypeNames => string.Join(", ", Enum.GetValues<RawFieldType>().Select(TypeName).Order(StringComparer.Ordinal));

    /// <summary>
    /// Serializes the schema as the JSON the Glue job reads (its <c>--source</c> argument):
    /// <c>{"fields": [{"name": "geo.country", "column": "geo_country", "type": "string"}, ...], "event_time": "ts"}</c>.
    /// Every field names its column and type (no defaults to re-derive); <c>event_time</c> is the field's JSON name, left
    /// out when there is none.
    /// </summary>
    public string ToJson() => JsonSerializer.Serialize(
        new SchemaDto([.. Fields.Select(f => (FieldDto?)new FieldDto(f.Name, f.Column, TypeName(f.Type)))], EventTime?.Name), SchemaJson.Default.SchemaDto);

    /// <summary>Parses the JSON written by <see cref="ToJson"/> and validates it as <see cref="Create"/> does.</summary>
    /// <exception cref="TallyException">InvalidConfiguration when the JSON is malformed or the schema is not valid.</exception>
    public static SourceSchema ParseJson(string json)
    {
        SchemaDto? dto;
        try
        {
            dto = JsonSerializer.Deserialize(json, SchemaJson.Default.SchemaDto);
        }
        catch (JsonException e)
        {
            throw Invalid($"The source schema is not valid JSON: {e.Message}");
        }
        if (dto?.Fields is null) throw Invalid("The source schema must be a JSON object with a \"fields\" array.");
        var fields = new List<RawField>();
        for (var i = 0; i < dto.Fields.Count; i++)
        {
            var f = dto.Fields[i] ?? throw Invalid($"Source:Fields:{i} is empty.");
            if (!TryParseType(f.Type, out var type)) throw Invalid($"Source:Fields:{i}:Type '{f.Type}' of '{f.Name}' is not a known type; use {TypeNames}.");
            var field = new RawField(f.Name ?? "", type);
            fields.Add(string.IsNullOrEmpty(f.Column) ? field : field with { Column = f.Column });
        }
        return Create(fields, dto.EventTime);
    }

    private static TallyException Invalid(string message) => TallyException.InvalidConfiguration(message);

    /// <summary>The schema's JSON, read and written by code generated at build time (no reflection).</summary>
    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonSerializable(typeof(SchemaDto))]
    private sealed partial class SchemaJson : JsonSerializerContext;

    private sealed record SchemaDto(List<FieldDto?>? Fields, string? EventTime);

    private sealed record FieldDto(string? Name, string? Column, string? Type);
}
