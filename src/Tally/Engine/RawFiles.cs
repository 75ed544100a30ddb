using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Tally.Storage;

namespace Tally.Engine;

/// <summary>Finds an hour's raw files, whether its partition folders are zero-padded or not.</summary>
internal static class RawFiles
{
    /// <summary>
    /// Every raw data file of <paramref name="hour"/>: under each <c>raw_data/year=/month=/day=/hour=</c> folder whose values
    /// equal the hour's (<c>month=1</c> and <c>month=01</c> alike), in its <c>minute=</c> folders. Sorted by key.
    /// </summary>
    public static async Task<IReadOnlyList<ObjectInfo>> ListAsync(IObjectStore store, HourWindow hour, CancellationToken cancellationToken)
    {
        int[] wanted = [hour.Year, hour.Month, hour.Day, hour.Hour];
        var prefixes = new List<string> { DataLayout.RawPrefix };
        for (var level = 0; level < DataLayout.HourKeys.Count; level++)
        {
            var key = DataLayout.HourKeys[level].Key;
            var next = new List<string>();
            foreach (var prefix in prefixes)
            {
                await foreach (var folder in store.ListFoldersAsync(prefix, cancellationToken).ConfigureAwait(false))
                {
                    if (DataLayout.TryParseSegment(folder, key, out var value) && value == wanted[level]) next.Add($"{prefix}/{folder}");
                }
            }
            prefixes = next;
        }

        var files = new List<ObjectInfo>();
        foreach (var prefix in prefixes)
        {
            await foreach (var file in store.ListAsync(prefix + "/", cancellationToken).ConfigureAwait(false))
            {
                var relative = file.Key[(prefix.Length + 1)..].Split('/');
                if (relative.Length == 2 && DataLayout.TryParseSegment(relative[0], "minute", out var minute) && minute <= 59
                    && DataLayout.IsRawDataFile(relative[1]))
                {
                    files.Add(file);
                }
            }
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return files;
    }

    /// <summary>A SHA-256 over the files' keys, sizes and change times: it changes when a file is added, removed or rewritten.</summary>
    public static string Fingerprint(IReadOnlyList<ObjectInfo> files)
    {
        var text = new StringBuilder();
        foreach (var f in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            text.Append(f.Key).Append('\t').Append(f.Size.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(f.ETag ?? f.LastModified.UtcTicks.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
