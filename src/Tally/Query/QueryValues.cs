using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Tally.Query;

/// <summary>The values of a query's rows (as DuckDB gives them) written as JSON and as text, the same for <c>tally query</c> and the dashboard.</summary>
public static class QueryValues
{
    /// <summary>A value as JSON: integers exact (any size), non-finite floating point as text, lists as arrays, maps and structs as objects.</summary>
    public static void WriteJson(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null: json.WriteNullValue(); break;
            case string s: json.WriteStringValue(s); break;
            case bool b: json.WriteBooleanValue(b); break;
            case long or int or short or sbyte or byte or ushort or uint or ulong or BigInteger:
                json.WriteRawValue(Convert.ToString(value, CultureInfo.InvariantCulture)!, skipInputValidation: true);
                break;
            case decimal d: json.WriteNumberValue(d); break;
            case double d when double.IsFinite(d): json.WriteNumberValue(d); break;
            case float f when float.IsFinite(f): json.WriteNumberValue(f); break;
            case byte[] bytes: json.WriteBase64StringValue(bytes); break;
            case IDictionary dictionary:
                json.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    json.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    WriteJson(json, entry.Value);
                }
                json.WriteEndObject();
                break;
            case IEnumerable items:
                json.WriteStartArray();
                foreach (var item in items) WriteJson(json, item);
                json.WriteEndArray();
                break;
            default: json.WriteStringValue(Text(value)); break;
        }
    }

    /// <summary>A value as text: invariant culture, ISO-8601 for dates and times.</summary>
    public static string Text(object value) => value switch
    {
        string s => s,
        DateTime t => t.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        byte[] bytes => Convert.ToBase64String(bytes),
        IEnumerable items and not IDictionary => "[" + string.Join(", ", items.Cast<object?>().Select(i => i is null ? "NULL" : Text(i))) + "]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
