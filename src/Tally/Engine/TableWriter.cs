using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

namespace Tally.Engine;

/// <summary>Writes an <see cref="AggregatedTable"/> as one Parquet file or one JSON Lines file. Output is deterministic: the same rows give the same bytes.</summary>
internal static class TableWriter
{
    private static readonly JsonWriterOptions JsonOptions = new()
    {
        // Keep '+', '<', non-ASCII etc. as they are, as other engines write them.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    // Snappy at its fastest level: the default (SmallestSize) makes large files take seconds to write.
    private static readonly ParquetOptions ParquetWriterOptions = new()
    {
        CompressionMethod = CompressionMethod.Snappy,
        CompressionLevel = System.IO.Compression.CompressionLevel.Fastest,
    };

    /// <summary>
    /// Writes a one-row Parquet file of each Parquet table to nowhere on a pool thread, so that Parquet.Net's one-time JIT and
    /// initialization happen while the run is still reading. Never throws: a failure here shows up again in the real write.
    /// </summary>
    public static Task PrepareAsync(IReadOnlyList<AggregationSpec> specs) =>
        LazyInitializer.EnsureInitialized(ref _warmUp, () => WarmUpAsync(specs));

    /// <summary>The warm-up, once per process (the scheduler, backfill and the dashboard run many hours).</summary>
    private static Task? _warmUp;

    private static Task WarmUpAsync(IReadOnlyList<AggregationSpec> specs) => Task.Run(async () =>
    {
        foreach (var spec in specs.Where(s => s.Format == TableFormat.Parquet))
        {
            try
            {
                // One row, so that writing a row group and compressing its pages is compiled too, not only the file frame.
                var oneRow = new AggregatedTable(spec, 1, spec.Columns().Select(c => c.Name == AggregationSpec.CountColumn
                    ? AggregatedColumn.Counts(c.Name, [1])
                    : c.CatalogType == "bigint" ? AggregatedColumn.Integers(c.Name, [1]) : AggregatedColumn.Strings(c.Name, ["warm-up"])).ToList());
                await WriteAsync(oneRow, Stream.Null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Only a warm-up, shared by every run of the process: never fails (a real problem shows in the real write).
            }
        }
    }, CancellationToken.None);

    public static Task WriteAsync(AggregatedTable table, Stream destination, CancellationToken cancellationToken) =>
        table.Spec.Format == TableFormat.Parquet
            ? WriteParquetAsync(table, destination, cancellationToken)
            : WriteJsonLinesAsync(table, destination, cancellationToken);

    private static async Task WriteParquetAsync(AggregatedTable table, Stream destination, CancellationToken cancellationToken)
    {
        var fields = table.Columns.Select(c => c switch
        {
            { StringValues: not null } => (DataField)new DataField<string>(c.Name, true),
            { IntegerValues: not null } => new DataField<long?>(c.Name),
            _ => new DataField<long>(c.Name),
        }).ToArray();
        var schema = new ParquetSchema(fields);
        // Parquet.Net needs a seekable stream for its footer; buffer in memory (the file is as large as the distinct keys).
        using var buffer = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(schema, buffer, ParquetWriterOptions, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (table.RowCount > 0)
            {
                using var group = writer.CreateRowGroup();
                for (var i = 0; i < fields.Length; i++)
                {
                    var column = table.Columns[i];
                    if (column.StringValues is { } strings)
                        await group.WriteAsync(fields[i], strings!).ConfigureAwait(false);
                    else if (column.IntegerValues is { } integers)
                        await group.WriteAsync<long>(fields[i], integers.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
                    else
                        await group.WriteAsync<long>(fields[i], column.CountValues!.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
                }
            }
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteJsonLinesAsync(AggregatedTable table, Stream destination, CancellationToken cancellationToken)
    {
        const int BlockSize = 1 << 20;
        var encoder = JsonOptions.Encoder!;
        // Everything but numbers is escaped once: the property prefixes, and each distinct string value (the columns
        // share one string instance per distinct value, so a reference-keyed cache hits for every repeat).
        var prefixes = table.Columns.Select((c, i) => Encoding.UTF8.GetBytes((i == 0 ? "{\"" : ",\"") + JsonEncodedText.Encode(c.Name, encoder) + "\":")).ToArray();
        var encoded = new Dictionary<string, byte[]>(ReferenceEqualityComparer.Instance);
        var block = new ArrayBufferWriter<byte>(BlockSize + (64 << 10));
        for (var row = 0; row < table.RowCount; row++)
        {
            for (var c = 0; c < prefixes.Length; c++)
            {
                block.Write(prefixes[c]);
                var column = table.Columns[c];
                if (column.StringValues is { } strings)
                {
                    if (strings[row] is not { } value)
                    {
                        block.Write("null"u8);
                    }
                    else
                    {
                        if (!encoded.TryGetValue(value, out var bytes))
                        {
                            bytes = Encoding.UTF8.GetBytes("\"" + JsonEncodedText.Encode(value, encoder) + "\"");
                            encoded[value] = bytes;
                        }
                        block.Write(bytes);
                    }
                }
                else
                {
                    long? number = column.IntegerValues is { } integers ? integers[row] : column.CountValues![row];
                    if (number is { } n)
                    {
                        Utf8Formatter.TryFormat(n, block.GetSpan(20), out var length);
                        block.Advance(length);
                    }
                    else
                    {
                        block.Write("null"u8);
                    }
                }
            }
            block.Write("}\n"u8);
            if (block.WrittenCount >= BlockSize)
            {
                await destination.WriteAsync(block.WrittenMemory, cancellationToken).ConfigureAwait(false);
                block.ResetWrittenCount();
            }
        }
        if (block.WrittenCount > 0) await destination.WriteAsync(block.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }
}
