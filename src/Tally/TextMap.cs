using System.Collections.Frozen;

namespace Tally;

/// <summary>
/// The one mapping between the values of an enum and their text (in the metastore, in JSON, on the command line): each value
/// has exactly one text, and parsing text that is none of them is an error, never a silent default.
/// </summary>
/// <typeparam name="T">The enum; every one of its values must be given a text.</typeparam>
public sealed class TextMap<T> where T : struct, Enum
{
    private readonly FrozenDictionary<T, string> _texts;
    private readonly FrozenDictionary<string, T> _values;
    private readonly string _what;

    /// <param name="what">What the values are, for errors: "run status".</param>
    /// <param name="pairs">Every value of <typeparamref name="T"/> with its text.</param>
    internal TextMap(string what, params (T Value, string Text)[] pairs)
    {
        _what = what;
        _texts = pairs.ToFrozenDictionary(p => p.Value, p => p.Text);
        _values = pairs.ToFrozenDictionary(p => p.Text, p => p.Value, StringComparer.Ordinal);
        foreach (var value in Enum.GetValues<T>())
        {
            if (!_texts.ContainsKey(value)) throw new ArgumentException($"The {what} {value} has no text.", nameof(pairs));
        }
        Texts = [.. pairs.Select(p => p.Text)];
    }

    /// <summary>Every text, in the order of the declaration.</summary>
    public IReadOnlyList<string> Texts { get; }

    public string Text(T value) => _texts[value];

    public bool TryParse(string? text, out T value) => _values.TryGetValue(text ?? "", out value);

    /// <summary>The value whose text is <paramref name="text"/>.</summary>
    /// <exception cref="TallyException">InvalidArgument naming the texts allowed when it is none of them.</exception>
    public T Parse(string? text) => TryParse(text, out var value)
        ? value
        : throw TallyException.InvalidArgument($"'{text}' is not a {_what}; one of {string.Join(", ", Texts)} is.");
}
