using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Tally.Storage;

namespace Tally.Engine;

/// <summary>Reads back one table partition written by <see cref="TableWriter"/>: column names and rows (string, long or null values).</summary>
public static class TableReader
{
    /// <summary>The columns and rows of <paramref name="spec"/>'s file for <paramref name="hour"/>; no rows when the file does not exist.</summary>
    public static async Task<(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows)> ReadAsync(
        IObjectStore store, AggregationSpec spec, HourWindow hour, CancellationToken cancellationToken = default)
    {
        var columns = spec.Columns().Select(c => c.Name).ToArray();
        var rows = new List<object?[]>();
        Stream stream;
        try
        {
            stream = await store.OpenReadAsync(DataLayout.TableFile(spec, hour), cancellationToken).ConfigureAwait(false);
        }
        catch (TallyException e) when (e.Kind == TallyErrorKind.NotFound)
        {
            return (columns, rows);
        }
        await using (stream)
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            buffer.Position = 0;
            if (spec.Format == TableFormat.Json)
            {
                using var reader = new StreamReader(buffer);
                while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                {
                    if (line.Length == 0) continue;
                    using var doc = JsonDocument.Parse(line);
                    rows.Add(columns.Select(c => doc.RootElement.TryGetProperty(c, out var v) ? v.ValueKind switch
                    {
                        JsonValueKind.Number => (object?)v.GetInt64(),
                        JsonValueKind.String => v.GetString(),
                        _ => null,
                    } : null).ToArray());
                }
                return (columns, rows);
            }

            await using var parquet = await ParquetReader.CreateAsync(buffer, cancellationToken: cancellationToken).ConfigureAwait(false);
            var fields = parquet.Schema.GetDataFields();
            for (var g = 0; g < parquet.RowGroupCount; g++)
            {
                using var group = parquet.OpenRowGroupReader(g);
                var count = checked((int)group.RowCount);
                var values = new object?[fields.Length][];
                for (var f = 0; f < fields.Length; f++)
                {
                    var isString = spec.Columns().FirstOrDefault(c => c.Name == fields[f].Name)?.CatalogType == "string";
                    values[f] = await ReadColumnAsync(group, fields[f], isString, count, cancellationToken).ConfigureAwait(false);
                }
                for (var r = 0; r < count; r++) rows.Add(columns.Select(c => values[Array.FindIndex(fields, x => x.Name == c)][r]).ToArray());
            }
        }
        return (columns, rows);
    }

    private static async Task<object?[]> ReadColumnAsync(ParquetRowGroupReader group, DataField field, bool isString, int count, CancellationToken cancellationToken)
    {
        if (isString)
        {
            var strings = new string?[count];
            await group.ReadAsync(field, strings.AsMemory(), null, cancellationToken).ConfigureAwait(false);
            return strings.Cast<object?>().ToArray();
        }
        var longs = new long?[count];
        await group.ReadAsync<long>(field, longs.AsMemory(), null, cancellationToken).ConfigureAwait(false);
        return longs.Select(v => (object?)v).ToArray();
    }
}
