using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Tally.Engine;

/// <summary>
/// The declared names at one level of a record's nesting, compiled for the scanner: the record's own keys at the root,
/// and for each key that holds declared fields inside it (<c>geo</c> of <c>geo.country</c>) the level of that object.
/// Each key is either a field's value (<see cref="Fields"/>) or an object of further keys (<see cref="Children"/>).
/// Immutable and thread-safe once built.
/// </summary>
internal sealed class FieldLevel
{
    private FieldLevel(List<(string Key, int Field, FieldLevel? Child)> keys)
    {
        Names = keys.Select(k => Encoding.UTF8.GetBytes(k.Key)).ToArray();
        Fields = keys.Select(k => k.Field).ToArray();
        Children = keys.Select(k => k.Child).ToArray();
        QuotedNames = Names.Select(n => (byte[])[.. n, (byte)'"']).ToArray();
        QuotedWords = QuotedNames.Select(n =>
        {
            var padded = new byte[16];
            var mask = new byte[16];
            n.AsSpan(0, Math.Min(n.Length, 16)).CopyTo(padded);
            mask.AsSpan(0, Math.Min(n.Length, 16)).Fill(0xFF);
            return (BinaryPrimitives.ReadUInt64LittleEndian(padded), BinaryPrimitives.ReadUInt64LittleEndian(mask),
                BinaryPrimitives.ReadUInt64LittleEndian(padded.AsSpan(8)), BinaryPrimitives.ReadUInt64LittleEndian(mask.AsSpan(8)));
        }).ToArray();
        KeyByFirstByte = Enumerable.Range(0, 256)
            .Select(b => Names.Select((n, i) => (n, i)).Where(f => f.n.Length > 0 && f.n[0] == b).ToList() is [var only] ? (sbyte)only.i : (sbyte)-1)
            .ToArray();
    }

    /// <summary>Each key's UTF-8 bytes.</summary>
    public byte[][] Names { get; }

    /// <summary>Per key: the schema index of the field whose value it holds, or -1 when it holds an object of further keys.</summary>
    public int[] Fields { get; }

    /// <summary>Per key: the level of the object it holds, or null when it holds a field's value.</summary>
    public FieldLevel?[] Children { get; }

    /// <summary>Each key followed by its closing quote, for matching a name in one comparison.</summary>
    private byte[][] QuotedNames { get; }

    /// <summary>The first and next eight bytes of each quoted key (zero beyond its end), and masks of its bytes in them.</summary>
    private (ulong Head, ulong HeadMask, ulong Tail, ulong TailMask)[] QuotedWords { get; }

    /// <summary>For each byte, the one key that starts with it, or -1 (none, or several).</summary>
    private sbyte[] KeyByFirstByte { get; }

    /// <summary>The root level of <paramref name="schema"/>: its fields' paths, split at the dots.</summary>
    public static FieldLevel Build(SourceSchema schema)
    {
        var paths = schema.Fields.Select((f, i) => (Path: f.Path, Field: i)).ToList();
        return Build(paths, 0);
    }

    private static FieldLevel Build(List<(IReadOnlyList<string> Path, int Field)> paths, int depth)
    {
        var keys = new List<(string Key, int Field, FieldLevel? Child)>();
        foreach (var group in paths.GroupBy(p => p.Path[depth], StringComparer.Ordinal))
        {
            var leaf = group.FirstOrDefault(p => p.Path.Count == depth + 1);
            keys.Add(leaf.Path is not null
                ? (group.Key, leaf.Field, null)
                : (group.Key, -1, Build(group.ToList(), depth + 1)));
        }
        return new FieldLevel(keys);
    }

    /// <summary>
    /// The key whose name and closing quote stand at <paramref name="start"/>, found by its first byte and compared in two
    /// words; -1 when that guess fails (another key, an escape, or a name that shares its first byte), and the caller scans.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GuessQuotedKey(ReadOnlySpan<byte> data, int start, out int nameLength)
    {
        nameLength = 0;
        if ((uint)start >= (uint)data.Length) return -1;
        var key = KeyByFirstByte[data[start]];
        if (key < 0) return -1;
        var quoted = QuotedNames[key];
        bool match;
        if (quoted.Length > 16 || start + 16 > data.Length)
        {
            match = data[start..].StartsWith(quoted);
        }
        else
        {
            var (head, headMask, tail, tailMask) = QuotedWords[key];
            match = (BinaryPrimitives.ReadUInt64LittleEndian(data[start..]) & headMask) == head
                && (BinaryPrimitives.ReadUInt64LittleEndian(data[(start + 8)..]) & tailMask) == tail;
        }
        if (!match) return -1;
        nameLength = quoted.Length - 1;
        return key;
    }

    /// <summary>The key called <paramref name="name"/> (unescaped bytes), or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Find(ReadOnlySpan<byte> name)
    {
        var names = Names;
        for (var i = 0; i < names.Length; i++)
        {
            if (names[i].Length == name.Length && name.SequenceEqual(names[i])) return i;
        }
        return -1;
    }
}
