using Amazon.S3.Model;

namespace Tally.Storage;

/// <summary>
/// The body of a GetObject response, read as it arrives. When the connection drops, or no bytes arrive for
/// <see cref="S3Settings.ReadIdleTimeout"/>, the download continues from the current offset with a ranged GET pinned to the
/// object's ETag (a changed object fails the read instead of mixing two versions), up to <see cref="S3Settings.MaxAttempts"/>
/// times in a row. Disposing it disposes the response.
/// </summary>
internal sealed class S3ReadStream : Stream
{
    private readonly S3ObjectStore _store;
    private readonly string _key;
    private readonly S3Settings _settings;
    private readonly string? _etag;
    private readonly long _length;
    private GetObjectResponse _response;
    private long _position;

    public S3ReadStream(S3ObjectStore store, string key, GetObjectResponse response, S3Settings settings)
    {
        _store = store;
        _key = key;
        _settings = settings;
        _response = response;
        _etag = response.ETag;
        _length = response.ContentLength;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0 || _position >= _length) return 0;
        for (var failures = 0; ; failures++)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(_settings.ReadIdleTimeout);
            try
            {
                var read = await _response.ResponseStream.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                if (read == 0) throw new IOException($"the connection ended after {_position:N0} of {_length:N0} bytes");
                _position += read;
                return read;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is IOException or HttpRequestException or OperationCanceledException)
            {
                if (failures + 1 >= _settings.MaxAttempts)
                {
                    throw TallyException.Transient($"Reading '{_store.Describe(_key)}' failed {failures + 1} times in a row at byte {_position:N0}: {e.Message}", e);
                }
                _response.Dispose();
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5_000, 100 << failures) * Random.Shared.NextDouble()), cancellationToken).ConfigureAwait(false);
                _response = await _store.GetAsync(_key, _position, _etag, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _response.Dispose();
        base.Dispose(disposing);
    }
}
