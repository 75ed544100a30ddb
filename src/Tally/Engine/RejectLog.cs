using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Tally.Storage;

namespace Tally.Engine;

/// <summary>
/// Collects rejected records as JSON Lines (<c>{"file", "line", "offset", "reason", "record"}</c>) in a local temporary
/// file, so memory stays flat however many records are rejected; the run then publishes it under <c>quarantine/</c>.
/// Thread-safe. The temporary file is an <see cref="UnnamedFile"/>: a killed run leaves none behind.
/// </summary>
internal sealed class RejectLog : IDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly Lock _gate = new();
    private FileStream? _stream;
    private Utf8JsonWriter? _writer;

    public long Count { get; private set; }

    /// <summary>Records one rejected record: its file, 1-based line, 0-based byte offset, reason and raw text.</summary>
    public void Add(string file, long line, long offset, string reason, ReadOnlySpan<byte> record)
    {
        var text = Encoding.UTF8.GetString(record);
        lock (_gate)
        {
            try
            {
                if (_stream is null)
                {
                    _stream = UnnamedFile.Create("tally-rejected-", 1 << 16);
                    _writer = new Utf8JsonWriter(_stream, WriterOptions);
                }
                _writer!.Reset(_stream);
                _writer.WriteStartObject();
                _writer.WriteString("file"u8, file);
                _writer.WriteNumber("line"u8, line);
                _writer.WriteNumber("offset"u8, offset);
                _writer.WriteString("reason"u8, reason);
                _writer.WriteString("record"u8, text);
                _writer.WriteEndObject();
                _writer.Flush();
                _stream.WriteByte((byte)'\n');
            }
            catch (IOException e)
            {
                // Not an IOException any more, so that it is not taken for a failure to read the raw file.
                throw TallyException.Transient($"Cannot keep the rejected records in a temporary file in '{Path.GetTempPath()}': {e.Message}", e);
            }
            Count++;
        }
    }

    /// <summary>Copies every rejected record written so far to <paramref name="destination"/>.</summary>
    public async Task CopyToAsync(Stream destination, CancellationToken cancellationToken)
    {
        if (_stream is null) return;
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        _stream.Position = 0;
        await _stream.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
        _stream.Seek(0, SeekOrigin.End);
    }

    public void Dispose()
    {
        _writer?.Dispose();
        _stream?.Dispose();
    }
}
