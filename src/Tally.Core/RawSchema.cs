namespace Tally;

/// <summary>The JSON type a raw field must have when present (null is always allowed).</summary>
public enum RawFieldType
{
    /// <summary>A JSON integer that fits in 64 bits; stored as <c>bigint</c>.</summary>
    Int64,
    /// <summary>A JSON string; stored as <c>string</c>.</summary>
    String,
    /// <summary>A JSON string holding an ISO-8601 date-time (see <see cref="Iso8601"/>); stored as <c>string</c>.</summary>
    Timestamp,
}

/// <summary>One field of the raw record: its JSON name (case-sensitive), type, and catalog column name (lower-case, as Glue stores it).</summary>
public sealed record RawField(string Name, RawFieldType Type)
{
    /// <summary>The column name in the catalog and in output files: the JSON name in lower case.</summary>
    public string Column => Name.ToLowerInvariant();

    /// <summary>The catalog (Glue/Hive) type of the column.</summary>
    public string CatalogType => Type == RawFieldType.Int64 ? "bigint" : "string";
}

/// <summary>The raw web-page-hit record, as the seed defines it. Extra fields are ignored; missing fields are null.</summary>
public static class RawSchema
{
    public static readonly RawField GroupId = new("GroupID", RawFieldType.Int64);
    public static readonly RawField CountryCode = new("CountryCode", RawFieldType.String);
    public static readonly RawField UserAgent = new("UserAgent", RawFieldType.String);
    public static readonly RawField Language = new("Language", RawFieldType.String);
    public static readonly RawField Domain = new("Domain", RawFieldType.String);
    public static readonly RawField Timestamp = new("Timestamp", RawFieldType.Timestamp);

    /// <summary>All fields in the seed's column order: groupid, countrycode, useragent, language, domain, timestamp.</summary>
    public static IReadOnlyList<RawField> Fields { get; } = [GroupId, CountryCode, UserAgent, Language, Domain, Timestamp];

    /// <summary>The field called <paramref name="name"/> (JSON name or column name, any case), or null.</summary>
    public static RawField? Find(string name) =>
        Fields.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The position of <paramref name="field"/> in <see cref="Fields"/>.</summary>
    public static int IndexOf(RawField field)
    {
        for (var i = 0; i < Fields.Count; i++)
        {
            if (ReferenceEquals(Fields[i], field)) return i;
        }
        throw new ArgumentException($"'{field.Name}' is not a field of the raw schema.", nameof(field));
    }
}
