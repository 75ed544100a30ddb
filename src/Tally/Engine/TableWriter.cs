using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
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
    public static Task PrepareAsync(IReadOnlyList<TableDefinition> tables) =>
        LazyInitializer.EnsureInitialized(ref _warmUp, () => WarmUpAsync(tables));

    /// <summary>The warm-up, once per process (the scheduler, backfill and the dashboard run many hours).</summary>
    private static Task? _warmUp;

    private static Task WarmUpAsync(IReadOnlyList<TableDefinition> tables) => Task.Run(async () =>
    {
        foreach (var table in tables.Where(s => s.Format == TableFormat.Parquet))
        {
            try
            {
                // One row, so that writing a row group and compressing its pages is compiled too, not only the file frame.
                var groupColumns = table.Columns.Count - table.Metrics.Count;
                var oneRow = new AggregatedTable(table, 1, table.Columns.Select((c, i) => i >= groupColumns && table.Metrics[i - groupColumns].Function is MetricFunction.Count or MetricFunction.CountDistinct
                    ? AggregatedColumn.Counts(c.Name, [1])
                    : c.CatalogType switch
                    {
                        CatalogTypes.BigInt => AggregatedColumn.Integers(c.Name, [1]),
                        CatalogTypes.Double => AggregatedColumn.Doubles(c.Name, [1.5]),
                        CatalogTypes.Boolean => AggregatedColumn.Booleans(c.Name, [true]),
                        CatalogTypes.Timestamp => AggregatedColumn.Timestamps(c.Name, [DateTime.UnixEpoch]),
                        _ => AggregatedColumn.Strings(c.Name, ["warm-up"]),
                    }).ToList());
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
        var fields = table.Columns.Select(c => c.Values switch
        {
            string?[] => (DataField)new DataField<string>(c.Name, true),
            long?[] => new DataField<long?>(c.Name),
            long[] => new DataField<long>(c.Name),
            double?[] => new DataField<double?>(c.Name),
            bool?[] => new DataField<bool?>(c.Name),
            // A Parquet timestamp adjusted to UTC, in microseconds: what Athena, Spark and DuckDB read as a timestamp.
            DateTime?[] => new DateTimeDataField(c.Name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: true),
            _ => throw new InvalidOperationException($"Column {c.Name} has values of an unknown type."),
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
                    var task = table.Columns[i].Values switch
                    {
                        string?[] strings => group.WriteAsync(fields[i], strings!),
                        long?[] integers => group.WriteAsync<long>(fields[i], integers.AsMemory(), cancellationToken: cancellationToken),
                        long[] counts => group.WriteAsync<long>(fields[i], counts.AsMemory(), cancellationToken: cancellationToken),
                        double?[] doubles => group.WriteAsync<double>(fields[i], doubles.AsMemory(), cancellationToken: cancellationToken),
                        bool?[] booleans => group.WriteAsync<bool>(fields[i], booleans.AsMemory(), cancellationToken: cancellationToken),
                        DateTime?[] times => group.WriteAsync<DateTime>(fields[i], times.AsMemory(), cancellationToken: cancellationToken),
                        _ => throw new InvalidOperationException("unreachable"),
                    };
                    await task.ConfigureAwait(false);
                }
            }
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    private static void WriteNumber(ArrayBufferWriter<byte> block, long n)
    {
        Utf8Formatter.TryFormat(n, block.GetSpan(20), out var length);
        block.Advance(length);
    }

    /// <summary>Rows per block of a JSON Lines table: about a megabyte of text.</summary>
    internal const int JsonRowsPerBlock = 16_384;

    /// <summary>
    /// Writes the rows as JSON Lines. A large table's rows are formatted in blocks on every core, a round of blocks at a
    /// time, and written in order: the same bytes as one thread would write, with memory bounded by one round.
    /// </summary>
    private static async Task WriteJsonLinesAsync(AggregatedTable table, Stream destination, CancellationToken cancellationToken)
    {
        var encoder = JsonOptions.Encoder!;
        var prefixes = table.Columns.Select((c, i) => Encoding.UTF8.GetBytes((i == 0 ? "{\"" : ",\"") + JsonEncodedText.Encode(c.Name, encoder) + "\":")).ToArray();
        var blocks = (table.RowCount + JsonRowsPerBlock - 1) / JsonRowsPerBlock;
        var width = Math.Clamp(Math.Min(Environment.ProcessorCount, blocks), 1, 64);
        var writers = Enumerable.Range(0, width).Select(_ => new JsonBlockWriter(table, prefixes)).ToArray();
        for (var first = 0; first < blocks; first += width)
        {
            var round = Math.Min(width, blocks - first);
            if (round == 1) writers[0].Format(first * JsonRowsPerBlock);
            else Parallel.For(0, round, new ParallelOptions { CancellationToken = cancellationToken }, i => writers[i].Format((first + i) * JsonRowsPerBlock));
            for (var i = 0; i < round; i++)
            {
                await destination.WriteAsync(writers[i].Written, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Formats one block of rows of a JSON Lines table at a time; one per core.</summary>
    private sealed class JsonBlockWriter(AggregatedTable table, byte[][] prefixes)
    {
        private readonly ArrayBufferWriter<byte> _block = new((int)Math.Clamp(table.RowCount * 64L, 256, 1 << 20));
        // Everything but numbers is escaped once: the property prefixes, and each distinct string value (the columns
        // share one string instance per distinct value, so a reference-keyed cache hits for every repeat).
        private readonly Dictionary<string, byte[]> _encoded = new(ReferenceEqualityComparer.Instance);

        public ReadOnlyMemory<byte> Written => _block.WrittenMemory;

        /// <summary>Formats the rows of the block that starts at row <paramref name="start"/> (replacing the last block's text).</summary>
        public void Format(int start)
        {
            var block = _block;
            var encoded = _encoded;
            var encoder = JsonOptions.Encoder!;
            block.ResetWrittenCount();
            var end = Math.Min(table.RowCount, start + JsonRowsPerBlock);
            for (var row = start; row < end; row++)
            {
                for (var c = 0; c < prefixes.Length; c++)
                {
                    block.Write(prefixes[c]);
                    switch (table.Columns[c].Values)
                    {
                        case string?[] strings:
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
                            break;
                        case long[] counts:
                            WriteNumber(block, counts[row]);
                            break;
                        case long?[] integers:
                            if (integers[row] is { } n) WriteNumber(block, n);
                            else block.Write("null"u8);
                            break;
                        case double?[] doubles:
                            // The shortest text that reads back as the same double (finite: the engine rejects the rest).
                            if (doubles[row] is { } d)
                            {
                                d.TryFormat(block.GetSpan(32), out var length, "R", CultureInfo.InvariantCulture);
                                block.Advance(length);
                            }
                            else
                            {
                                block.Write("null"u8);
                            }
                            break;
                        case bool?[] booleans:
                            block.Write(booleans[row] switch { true => "true"u8, false => "false"u8, null => "null"u8 });
                            break;
                        case DateTime?[] times:
                            // ISO-8601 in UTC, as the raw records write time: 2026-11-24T13:05:00.123Z.
                            if (times[row] is { } t)
                            {
                                block.Write("\""u8);
                                t.TryFormat(block.GetSpan(40), out var length, "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
                                block.Advance(length);
                                block.Write("\""u8);
                            }
                            else
                            {
                                block.Write("null"u8);
                            }
                            break;
                    }
                }
                block.Write("}\n"u8);
            }
        }
    }
}
