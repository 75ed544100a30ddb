using System.Text.Json;
using Tally.Metastore;

namespace Tally.Query;

/// <summary>
/// Partition pruning from the query's own syntax tree, as Athena prunes with the Glue catalog: for a plain
/// <c>SELECT … FROM db.table WHERE year = '2026' AND … AND hour = '13'</c>, the equalities on partition columns choose the
/// partitions before DuckDB sees any file. DuckDB prunes files itself too, but only after binding every file of the view,
/// which costs about 25 µs per partition on every query.
/// </summary>
/// <remarks>
/// Conservative: it applies only when the statement is one SELECT whose FROM is the table itself (no join, no CTE), the
/// table is named nowhere else in the statement, and the WHERE clause is a conjunction; only equalities between a
/// partition column and a string literal count. The WHERE clause still runs as written, so the narrowed file list only
/// has to contain every matching partition, which it does.
/// </remarks>
internal static class PartitionFilter
{
    /// <summary>
    /// The values the statement requires of <paramref name="table"/>'s partition columns (key → value), or null when the
    /// statement does not qualify. <paramref name="statement"/> is one element of json_serialize_sql's <c>statements</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string>? Find(JsonElement statement, CatalogTable table)
    {
        if (!statement.TryGetProperty("node", out var node) || Text(node, "type") != "SELECT_NODE") return null;
        if (node.TryGetProperty("cte_map", out var ctes) && ctes.TryGetProperty("map", out var map) && map.GetArrayLength() > 0) return null;
        if (!node.TryGetProperty("from_table", out var from) || from.ValueKind != JsonValueKind.Object || Text(from, "type") != "BASE_TABLE") return null;
        if (!Same(Text(from, "schema_name"), table.Database) || !Same(Text(from, "table_name"), table.Name)) return null;
        if (CountReferences(statement, table.Name) != 1) return null;
        if (!node.TryGetProperty("where_clause", out var where) || where.ValueKind != JsonValueKind.Object) return null;

        var qualifiers = new[] { Text(from, "alias"), table.Name, table.Database }.Where(q => !string.IsNullOrEmpty(q)).ToList();
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        IEnumerable<JsonElement> terms = Text(where, "type") == "CONJUNCTION_AND" && where.TryGetProperty("children", out var children)
            ? children.EnumerateArray() : [where];
        foreach (var term in terms)
        {
            if (Text(term, "type") != "COMPARE_EQUAL") continue;
            var (column, value) = (term.GetProperty("left"), term.GetProperty("right"));
            if (Text(column, "class") == "CONSTANT") (column, value) = (value, column);
            if (Text(column, "class") != "COLUMN_REF" || Text(value, "class") != "CONSTANT") continue;
            var names = column.GetProperty("column_names").EnumerateArray().Select(n => n.GetString() ?? "").ToList();
            if (names.Count == 0 || !names.SkipLast(1).All(q => qualifiers.Any(x => Same(x, q)))) continue;
            var key = table.PartitionKeys.FirstOrDefault(k => Same(k.Name, names[^1]))?.Name;
            var constant = value.GetProperty("value");
            if (key is null || constant.GetProperty("is_null").GetBoolean() || Text(constant.GetProperty("type"), "id") != "VARCHAR") continue;
            var text = constant.GetProperty("value").GetString() ?? "";
            // Two different values for one key match nothing; the narrowed list is then empty, as the answer is.
            found[key] = found.TryGetValue(key, out var earlier) && earlier != text ? "\0no partition" : text;
        }
        return found.Count > 0 ? found : null;
    }

    /// <summary>Whether a file key <c>&lt;location&gt;/k=v/…/name</c> lies in a partition with all of <paramref name="values"/>.</summary>
    public static bool Matches(string key, CatalogTable table, IReadOnlyDictionary<string, string> values)
    {
        var segments = key.Split('/').Skip(table.Location.Split('/').Length).SkipLast(1);
        var partition = segments.Select(s => s.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        return values.All(v => partition.TryGetValue(v.Key, out var actual) && actual == v.Value);
    }

    /// <summary>How many BASE_TABLE nodes anywhere in the tree name <paramref name="table"/>.</summary>
    private static int CountReferences(JsonElement element, string table)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var own = Text(element, "type") == "BASE_TABLE" && Same(Text(element, "table_name"), table) ? 1 : 0;
                return own + element.EnumerateObject().Sum(p => CountReferences(p.Value, table));
            case JsonValueKind.Array:
                return element.EnumerateArray().Sum(e => CountReferences(e, table));
            default:
                return 0;
        }
    }

    private static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() : null;

    private static bool Same(string? a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
