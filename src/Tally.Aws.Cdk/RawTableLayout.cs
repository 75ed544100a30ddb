using System.Text;

namespace Tally.Aws.Cdk;

/// <summary>
/// How the Glue raw table holds the declared source fields, for the OpenX JSON SerDe
/// (<c>org.openx.data.jsonserde.JsonSerDe</c>), which maps each column to a top-level JSON key and each struct field to a
/// key inside that object, in any case (<c>case.insensitive</c>, its default, lower-cases the keys it reads):
/// <list type="bullet">
/// <item>a flat field is a column named by its Column; when that is not its JSON name in lower case, a
/// <c>mapping.&lt;column&gt;</c> SerDe parameter names the key (<c>"mapping.event_time" = "ts"</c>);</item>
/// <item>nested fields (<c>geo.country</c>, <c>geo.city.name</c>) are one <c>struct&lt;…&gt;</c> column per top-level key
/// (<c>geo struct&lt;country:string,city:struct&lt;name:string&gt;&gt;</c>), named by the key in lower case; a key that is not a
/// valid name (<c>user-agent</c>) becomes one with <c>_</c> and a mapping.</item>
/// </list>
/// The SerDe applies a mapping to every struct field of that name at any depth, so one name must mean one key
/// everywhere; a declaration where it cannot is refused. Athena then returns nested values as struct columns: the
/// <see cref="Projection"/> selects the declared columns from them.
/// </summary>
/// <param name="Columns">The table's columns, in declaration order (a struct where its first field is declared).</param>
/// <param name="Mappings">The SerDe's <c>mapping.*</c> parameters, column or struct field name to the lower-case JSON key.</param>
/// <param name="Projection">Per declared field, in order, the SQL that selects it under its Column (<c>"geo"."country" AS "geo_country"</c>).</param>
internal sealed record RawTableLayout(IReadOnlyList<TableColumn> Columns, IReadOnlyDictionary<string, string> Mappings, IReadOnlyList<string> Projection)
{
    /// <summary>Whether every declared field is a top-level column, so <c>SELECT *</c> returns the declared columns.</summary>
    public bool IsFlat => Columns.All(c => !c.CatalogType.StartsWith("struct<", StringComparison.Ordinal));

    /// <summary>The layout of <paramref name="schema"/>'s fields next to the partition columns <paramref name="partitionKeys"/>.</summary>
    /// <exception cref="TallyException">
    /// InvalidConfiguration naming the field (<c>Source:Fields:3</c>) when the SerDe cannot tell two declared keys apart:
    /// they differ only in case, or one name would have to map to two keys; or when a struct column's name is a partition column.
    /// </exception>
    public static RawTableLayout For(SourceSchema schema, IReadOnlyCollection<string> partitionKeys)
    {
        var root = new Node("", "", -1);
        var names = new Dictionary<string, (string Key, int Field)>(StringComparer.Ordinal);
        var projection = new List<string>();
        for (var i = 0; i < schema.Fields.Count; i++)
        {
            var field = schema.Fields[i];
            var path = field.Path;
            if (path.Count == 1)
            {
                Claim(names, field.Column, field.Name.ToLowerInvariant(), i, schema);
                root.Add(field.Name, new Node(field.Column, field.Name, i) { Type = field.CatalogType }, i, schema);
                projection.Add(Quote(field.Column));
                continue;
            }
            var node = root;
            var selected = new List<string>();
            for (var depth = 0; depth < path.Count; depth++)
            {
                var key = path[depth];
                var name = GlueName(key);
                Claim(names, name, key.ToLowerInvariant(), i, schema);
                var leaf = depth == path.Count - 1;
                node = node.Add(key, new Node(name, key, i) { Type = leaf ? field.CatalogType : null }, i, schema);
                selected.Add(Quote(name));
            }
            projection.Add($"{string.Join(".", selected)} AS {Quote(field.Column)}");
        }
        if (root.Children.FirstOrDefault(c => c.Type is null && partitionKeys.Contains(c.Name)) is { } clash)
        {
            throw Invalid($"Source:Fields:{clash.Field} ('{schema.Fields[clash.Field].Name}') needs a struct column '{clash.Name}' for the JSON key '{clash.Key}', which is a partition column of the raw table.");
        }
        var mappings = names.Where(n => n.Key != n.Value.Key).ToDictionary(n => n.Key, n => n.Value.Key, StringComparer.Ordinal);
        return new RawTableLayout([.. root.Children.Select(c => new TableColumn(c.Name, c.TypeString()))], mappings, projection);
    }

    /// <summary>The column or struct field name of a JSON key: lower case, other characters than letters, digits and <c>_</c> as <c>_</c>.</summary>
    private static string GlueName(string key)
    {
        var name = new StringBuilder(key.Length + 1);
        foreach (var c in key.ToLowerInvariant()) name.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' ? c : '_');
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) name.Insert(0, '_');
        return name.ToString();
    }

    /// <summary>Records that <paramref name="name"/> reads <paramref name="key"/>; the SerDe's mappings hold at every depth.</summary>
    private static void Claim(Dictionary<string, (string Key, int Field)> names, string name, string key, int field, SourceSchema schema)
    {
        if (!names.TryGetValue(name, out var claimed))
        {
            names[name] = (key, field);
        }
        else if (claimed.Key != key)
        {
            throw Invalid($"Source:Fields:{field} ('{schema.Fields[field].Name}') needs the name '{name}' for the JSON key '{key}' but '{schema.Fields[claimed.Field].Name}' uses it for '{claimed.Key}', and the raw table's JSON SerDe maps a name to one key at every depth; set Column to another name.");
        }
    }

    private static string Quote(string identifier) => $"\"{identifier}\"";

    private static TallyException Invalid(string message) => TallyException.InvalidConfiguration(message);

    /// <summary>A column or struct field: a leaf has a <see cref="Type"/>, a struct has <see cref="Children"/>.</summary>
    private sealed class Node(string name, string key, int field)
    {
        public string Name { get; } = name;
        public string Key { get; } = key;
        public int Field { get; } = field;
        public string? Type { get; init; }
        public List<Node> Children { get; } = [];

        /// <summary>The child for <paramref name="key"/> (any case): <paramref name="node"/> when there is none yet, else the struct there is.</summary>
        public Node Add(string key, Node node, int field, SourceSchema schema)
        {
            var existing = Children.FirstOrDefault(c => string.Equals(c.Key, key, StringComparison.OrdinalIgnoreCase));
            if (existing is null)
            {
                Children.Add(node);
                return node;
            }
            var other = schema.Fields[existing.Field].Name;
            if (existing.Key != key)
            {
                throw Invalid($"Source:Fields:{field} ('{schema.Fields[field].Name}') and '{other}' differ only in the case of '{key}', and the raw table's JSON SerDe reads keys in any case.");
            }
            // The same name twice, or a value and an object holding fields: SourceSchema.Create refuses both.
            if (existing.Type is not null || node.Type is not null)
            {
                throw new InvalidOperationException($"'{schema.Fields[field].Name}' and '{other}' passed SourceSchema.Create but are the same JSON value.");
            }
            return existing;
        }

        public string TypeString() => Type ?? $"struct<{string.Join(",", Children.Select(c => $"{c.Name}:{c.TypeString()}"))}>";
    }
}
