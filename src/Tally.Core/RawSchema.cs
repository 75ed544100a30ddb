using System.Text.RegularExpressions;

namespace Tally;

/// <summary>The JSON type a raw field must have when present (null is always allowed).</summary>
public enum RawFieldType
{
    /// <summary>A JSON integer that fits in 64 bits; stored as <c>bigint</c>.</summary>
    Int64,
    /// <summary>A JSON string; stored as <c>string</c>.</summary>
    String,
    /// <summary>A JSON string holding an ISO-8601 date-time (see <see cref="Iso8601"/>); stored as <c>string</c> (the text as it came).</summary>
    Timestamp,
    /// <summary>Any JSON number that is a finite 64-bit float; stored as <c>double</c>.</summary>
    Double,
    /// <summary>JSON <c>true</c> or <c>false</c>; stored as <c>boolean</c>.</summary>
    Boolean,
}

/// <summary>The catalog (Glue/Hive) column types Tally writes.</summary>
public static class CatalogTypes
{
    public const string String = "string";
    public const string BigInt = "bigint";
    public const string Double = "double";
    public const string Boolean = "boolean";
    public const string Timestamp = "timestamp";
}

/// <summary>
/// One field of the raw record: its JSON name (case-sensitive; a dotted path such as <c>geo.country</c> names a value inside
/// nested objects), its type, and its column name in the catalog and in output files.
/// </summary>
/// <param name="Name">The JSON name, or a dotted path into nested objects.</param>
/// <param name="Type">The type the value must have when present.</param>
public sealed partial record RawField(string Name, RawFieldType Type)
{
    /// <summary>The column name in the catalog and in output files; by default the name in lower case, dots become <c>_</c>.</summary>
    public string Column { get; init; } = DefaultColumn(Name);

    /// <summary>The catalog (Glue/Hive) type of the raw column: a timestamp is the text as it came, so <c>string</c>.</summary>
    public string CatalogType => Type switch
    {
        RawFieldType.Int64 => CatalogTypes.BigInt,
        RawFieldType.Double => CatalogTypes.Double,
        RawFieldType.Boolean => CatalogTypes.Boolean,
        _ => CatalogTypes.String,
    };

    /// <summary>The names of the path from the record down to the value: <c>geo.country</c> gives <c>geo</c>, <c>country</c>.</summary>
    public IReadOnlyList<string> Path => Name.Split('.');

    /// <summary>The default column name of a JSON name: lower case, dots become underscores.</summary>
    internal static string DefaultColumn(string name) => (name ?? "").ToLowerInvariant().Replace('.', '_');

    /// <summary>Whether <paramref name="column"/> is a column name Tally accepts: lower-case letters, digits and underscores, not starting with a digit.</summary>
    internal static bool IsValidColumn(string column) => ColumnPattern().IsMatch(column);

    [GeneratedRegex(@"^[a-z_][a-z0-9_]{0,127}\z")]
    private static partial Regex ColumnPattern();
}

/// <summary>The raw web-page-hit record, as the seed defines it: the source schema when none is declared.</summary>
internal static class RawSchema
{
    public static readonly RawField GroupId = new("GroupID", RawFieldType.Int64);
    public static readonly RawField CountryCode = new("CountryCode", RawFieldType.String);
    public static readonly RawField UserAgent = new("UserAgent", RawFieldType.String);
    public static readonly RawField Language = new("Language", RawFieldType.String);
    public static readonly RawField Domain = new("Domain", RawFieldType.String);
    public static readonly RawField Timestamp = new("Timestamp", RawFieldType.Timestamp);

    /// <summary>All fields in the seed's column order: groupid, countrycode, useragent, language, domain, timestamp.</summary>
    public static IReadOnlyList<RawField> Fields { get; } = [GroupId, CountryCode, UserAgent, Language, Domain, Timestamp];

    /// <summary>The seed's field called <paramref name="name"/> (JSON name or column name, any case), or null.</summary>
    public static RawField? Find(string name) => SourceSchema.Seed.Find(name);

    /// <summary>The position of <paramref name="field"/> in <see cref="Fields"/>.</summary>
    public static int IndexOf(RawField field) => SourceSchema.Seed.IndexOf(field);
}
