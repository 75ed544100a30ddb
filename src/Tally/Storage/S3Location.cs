using System.Diagnostics.CodeAnalysis;

namespace Tally.Storage;

/// <summary>
/// Where Tally's data lives in an S3 bucket: <c>s3://bucket/prefix</c>. The prefix is the data root ("" for the bucket's
/// root); keys of the store are relative to it, so <c>s3://b/tally</c> holds <c>tally/raw_data/…</c> and <c>tally/aggregated_data/…</c>.
/// </summary>
public sealed record S3Location
{
    private S3Location(string bucket, string prefix)
    {
        Bucket = bucket;
        Prefix = prefix;
    }

    /// <summary>The bucket's name.</summary>
    public string Bucket { get; }

    /// <summary>The data root inside the bucket, without leading or trailing '/'; "" for the whole bucket.</summary>
    public string Prefix { get; }

    /// <summary>The object key of a store key: the prefix, '/', then <paramref name="key"/>.</summary>
    internal string ObjectKey(string key) => Prefix.Length == 0 ? key : key.Length == 0 ? Prefix + "/" : $"{Prefix}/{key}";

    /// <summary>Whether <paramref name="text"/> starts with <c>s3://</c> (case-insensitive): it names S3 and not a folder.</summary>
    public static bool IsS3Uri(string text) => text.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses <c>s3://bucket</c>, <c>s3://bucket/</c> or <c>s3://bucket/a/b/</c>.</summary>
    internal static bool TryParse(string? text, [NotNullWhen(true)] out S3Location? location)
    {
        location = null;
        if (text is null || !IsS3Uri(text)) return false;
        var rest = text[5..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (!IsBucketName(bucket) || prefix.Contains("//", StringComparison.Ordinal) || prefix.Split('/').Any(s => s is "." or "..")) return false;
        location = new S3Location(bucket, prefix);
        return true;
    }

    /// <exception cref="TallyException">InvalidArgument when <paramref name="text"/> is not an <c>s3://bucket/prefix</c> URI.</exception>
    public static S3Location Parse(string text) =>
        TryParse(text, out var location)
            ? location
            : throw TallyException.InvalidArgument($"'{text}' is not a valid S3 location; write s3://bucket or s3://bucket/prefix (bucket: 3-63 lower-case letters, digits, '.' or '-').");

    /// <summary>S3's bucket naming rules: 3–63 characters, lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.</summary>
    private static bool IsBucketName(string name) =>
        name.Length is >= 3 and <= 63
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-')
        && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1])
        && !name.Contains("..", StringComparison.Ordinal);

    public override string ToString() => Prefix.Length == 0 ? $"s3://{Bucket}" : $"s3://{Bucket}/{Prefix}";
}
