using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tally.Synthetic;

/// <summary>
/// Synthetic records shaped like one sample record, for a declared source (<c>tally generate --sample FILE</c>): every declared
/// field at its JSON name, nested objects rebuilt from the dotted names, other values of the sample left out. Values are
/// drawn around the sample's: a string is the sample's or one of 49 variants of it (<c>NZ</c>, <c>NZ-2</c>, …, a skewed
/// choice); an integer or a double lies between 0 and twice the sample's value; a boolean is the sample's two times in three;
/// a timestamp lies in the record's minute, written as the sample writes its offset (<c>Z</c>, <c>+02:00</c> or none), to
/// the millisecond. A field the sample holds as null is null one time in four; a field the sample lacks is drawn from its
/// type alone. Immutable; <see cref="Write"/> is deterministic for a given <see cref="Random"/>.
/// </summary>
public sealed partial class SampleRecords
{
    private const int Variants = 50;
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Node _root;

    private SampleRecords(Node root) => _root = root;

    /// <summary>Reads the sample, the first JSON object of <paramref name="path"/> (a file of one object, JSON Lines, or an array of objects).</summary>
    /// <exception cref="TallyException">NotFound when the file does not exist; InvalidArgument when it holds no JSON object or a
    /// declared field's value in it has another type than the declaration's.</exception>
    public static SampleRecords Load(SourceSchema schema, string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw TallyException.NotFound($"The sample file '{path}' does not exist.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw TallyException.InvalidArgument($"Cannot read the sample file '{path}': {e.Message}");
        }
        using var sample = FirstObject(text) ?? throw TallyException.InvalidArgument(
            $"The sample file '{path}' holds no JSON object; give one raw record as it arrives, for example {{\"geo\": {{\"country\": \"NZ\"}}, \"bytes\": 512}}.");
        var root = new Node("");
        foreach (var field in schema.Fields)
        {
            var node = root;
            JsonElement? value = sample.RootElement;
            for (var i = 0; i < field.Path.Count; i++)
            {
                var name = field.Path[i];
                if (value is { ValueKind: JsonValueKind.Object } parent)
                {
                    value = parent.TryGetProperty(name, out var child) ? child : null;
                }
                else if (value is { ValueKind: not JsonValueKind.Null } other)
                {
                    throw TallyException.InvalidArgument(
                        $"The sample's '{string.Join('.', field.Path.Take(i))}' is {Describe(other)}, but Source:Fields reads '{field.Name}' inside it; fix the sample or the declaration.");
                }
                else
                {
                    value = null;
                }
                if (i < field.Path.Count - 1) node = node.Child(name);
            }
            node.Leaf(field.Path[^1], Draw(field, value));
        }
        return new SampleRecords(root);
    }

    /// <summary>Appends one record, a JSON object and a line feed, with values drawn from <paramref name="random"/>; timestamps within the minute starting at <paramref name="minute"/>.</summary>
    internal void Write(IBufferWriter<byte> output, Random random, DateTimeOffset minute)
    {
        using (var json = new Utf8JsonWriter(output, WriterOptions))
        {
            _root.Write(json, random, minute);
        }
        output.Write("\n"u8);
    }

    /// <summary>How a field's values are drawn, from the sample's value (null when it lacks one).</summary>
    /// <exception cref="TallyException">InvalidArgument when the sample's value does not have the declared type.</exception>
    private static Action<Utf8JsonWriter, Random, DateTimeOffset> Draw(RawField field, JsonElement? sample)
    {
        var isNull = sample is { ValueKind: JsonValueKind.Null };
        var value = sample is { ValueKind: not JsonValueKind.Null } v ? v : (JsonElement?)null;
        var draw = field.Type switch
        {
            RawFieldType.Int64 => Integers(field, value),
            RawFieldType.Double => Doubles(field, value),
            RawFieldType.Boolean => Booleans(field, value),
            RawFieldType.Timestamp => Timestamps(field, value),
            _ => Strings(field, value),
        };
        if (!isNull) return draw;
        return (json, random, minute) =>
        {
            if (random.Next(4) == 0) json.WriteNullValue();
            else draw(json, random, minute);
        };
    }

    private static Action<Utf8JsonWriter, Random, DateTimeOffset> Strings(RawField field, JsonElement? sample)
    {
        if (sample is { } s && s.ValueKind != JsonValueKind.String) throw WrongType(field, s);
        var start = sample?.GetString() ?? field.Column;
        var words = Enumerable.Range(1, Variants).Select(i => i == 1 && sample is not null ? start : $"{start}-{i}").ToArray();
        var cdf = RawDataGenerator.ZipfCdf(Variants, 1.0);
        return (json, random, _) => json.WriteStringValue(words[Pick(cdf, random)]);
    }

    private static Action<Utf8JsonWriter, Random, DateTimeOffset> Integers(RawField field, JsonElement? sample)
    {
        long center = 0;
        if (sample is { } s && (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out center))) throw WrongType(field, s);
        var (low, high) = center < 0 ? (center < long.MinValue / 2 ? long.MinValue : center * 2, 0L)
            : (0L, center > long.MaxValue / 2 ? long.MaxValue - 1 : Math.Max(center * 2, 10));
        return (json, random, _) => json.WriteNumberValue(random.NextInt64(low, high + 1));
    }

    private static Action<Utf8JsonWriter, Random, DateTimeOffset> Doubles(RawField field, JsonElement? sample)
    {
        double center = 1;
        if (sample is { } s && (s.ValueKind != JsonValueKind.Number || !s.TryGetDouble(out center) || !double.IsFinite(center))) throw WrongType(field, s);
        var span = center == 0 ? 1 : 2 * center;
        return (json, random, _) => json.WriteNumberValue(Math.Round(random.NextDouble() * span, 3));
    }

    private static Action<Utf8JsonWriter, Random, DateTimeOffset> Booleans(RawField field, JsonElement? sample)
    {
        if (sample is { } s && s.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw WrongType(field, s);
        var usual = sample?.ValueKind == JsonValueKind.True;
        var share = sample is null ? 2 : 3;
        return (json, random, _) => json.WriteBooleanValue(random.Next(share) == 0 ? !usual : usual);
    }

    private static Action<Utf8JsonWriter, Random, DateTimeOffset> Timestamps(RawField field, JsonElement? sample)
    {
        string format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        var offset = TimeSpan.Zero;
        if (sample is { } s)
        {
            if (s.ValueKind != JsonValueKind.String || !Iso8601.TryParseUtcTicks(s.GetString(), out _)) throw WrongType(field, s);
            var text = s.GetString()!;
            var match = Offset().Match(text);
            if (!match.Success)
            {
                format = "yyyy-MM-dd'T'HH:mm:ss.fff";
            }
            else if (match.Value is not ("Z" or "z"))
            {
                offset = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture).Offset;
                format = "yyyy-MM-dd'T'HH:mm:ss.fffzzz";
            }
        }
        return (json, random, minute) =>
        {
            var at = minute.AddTicks(random.NextInt64(TimeSpan.TicksPerMinute / TimeSpan.TicksPerMillisecond) * TimeSpan.TicksPerMillisecond);
            json.WriteStringValue(at.ToOffset(offset).ToString(format, CultureInfo.InvariantCulture));
        };
    }

    private static TallyException WrongType(RawField field, JsonElement value) => TallyException.InvalidArgument(
        $"The sample's '{field.Name}' is {Describe(value)}, but Source:Fields declares it {SourceSchema.TypeName(field.Type)}; fix the sample or the declaration.");

    private static string Describe(JsonElement value)
    {
        var text = value.GetRawText();
        var shown = text.Length > 40 ? text[..39] + "…" : text;
        return value.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => $"the string {shown}",
            JsonValueKind.Number => $"the number {shown}",
            _ => shown,
        };
    }

    /// <summary>The first JSON object of the text: the whole text, an array's first element, or the first line that parses.</summary>
    private static JsonDocument? FirstObject(string text)
    {
        var options = new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };
        try
        {
            var document = JsonDocument.Parse(text.TrimStart('\uFEFF'), options);
            if (document.RootElement.ValueKind == JsonValueKind.Object) return document;
            if (document.RootElement is { ValueKind: JsonValueKind.Array } array && array.GetArrayLength() > 0 && array[0].ValueKind == JsonValueKind.Object)
            {
                var first = JsonDocument.Parse(array[0].GetRawText());
                document.Dispose();
                return first;
            }
            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            // JSON Lines: the first line that is an object.
        }
        foreach (var line in text.TrimStart('\uFEFF').Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            try
            {
                var document = JsonDocument.Parse(line, options);
                if (document.RootElement.ValueKind == JsonValueKind.Object) return document;
                document.Dispose();
            }
            catch (JsonException)
            {
            }
            return null;
        }
        return null;
    }

    private static int Pick(double[] cdf, Random random)
    {
        var i = Array.BinarySearch(cdf, random.NextDouble());
        return Math.Min(i < 0 ? ~i : i, cdf.Length - 1);
    }

    [GeneratedRegex(@"(Z|z|[+-]\d\d:?\d\d)\z")]
    private static partial Regex Offset();

    /// <summary>An object of the record: its members in the declared fields' order, each an object or a drawn value.</summary>
    private sealed class Node(string name)
    {
        private readonly List<(Node? Object, string Name, Action<Utf8JsonWriter, Random, DateTimeOffset>? Value)> _members = [];

        public string Name { get; } = name;

        public Node Child(string name)
        {
            if (_members.FirstOrDefault(m => m.Object?.Name == name).Object is { } existing) return existing;
            var child = new Node(name);
            _members.Add((child, name, null));
            return child;
        }

        public void Leaf(string name, Action<Utf8JsonWriter, Random, DateTimeOffset> value) => _members.Add((null, name, value));

        public void Write(Utf8JsonWriter json, Random random, DateTimeOffset minute)
        {
            json.WriteStartObject();
            foreach (var (child, name, value) in _members)
            {
                json.WritePropertyName(name);
                if (child is not null) child.Write(json, random, minute);
                else value!(json, random, minute);
            }
            json.WriteEndObject();
        }
    }
}
