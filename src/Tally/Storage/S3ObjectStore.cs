using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;

namespace Tally.Storage;

/// <summary>
/// An <see cref="IObjectStore"/> on an S3 bucket (Amazon S3 or an S3-compatible store: MinIO, Ceph, R2), keys relative to
/// the location's prefix. Listings are paged; reads stream the object (a dropped or stalled download resumes where it
/// stopped, pinned to the object's ETag); an output is written to a local temporary file and then uploaded with one PUT
/// (multipart above <see cref="S3Settings.MultipartThreshold"/>), so readers see the old object or the whole new one.
/// Requests are retried with backoff on throttling, 5xx, timeouts and dropped connections (<see cref="S3Settings.MaxAttempts"/>).
/// Thread-safe.
/// </summary>
public sealed class S3ObjectStore : IObjectStore, IDisposable
{
    private readonly IAmazonS3 _client;
    private readonly S3Settings _settings;

    /// <exception cref="TallyException">InvalidArgument when the settings cannot make a client.</exception>
    public S3ObjectStore(S3Location location, S3Settings settings)
        : this(settings.CreateClient(), location, settings)
    {
    }

    internal S3ObjectStore(IAmazonS3 client, S3Location location, S3Settings settings)
    {
        _client = client;
        _settings = settings;
        Location = location;
    }

    /// <summary>The bucket and prefix this store works in.</summary>
    internal S3Location Location { get; }

    public string Describe(string key) => $"s3://{Location.Bucket}/{Location.ObjectKey(key)}";

    /// <summary>Checks that the bucket exists and can be listed with these credentials.</summary>
    /// <exception cref="TallyException">NotFound when the bucket does not exist; InvalidArgument when access is denied or the credentials are wrong; Transient when the store fails.</exception>
    internal async Task CheckAccessAsync(CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = Location.Bucket, Prefix = Location.ObjectKey(""), MaxKeys = 1 };
        await CallAsync(() => _client.ListObjectsV2Async(request, cancellationToken), "", cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<string> ListFoldersAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var folder = FolderKey(prefix);
        var request = new ListObjectsV2Request { BucketName = Location.Bucket, Prefix = folder, Delimiter = "/", MaxKeys = _settings.PageSize };
        var names = new List<string>();
        do
        {
            var page = await CallAsync(() => _client.ListObjectsV2Async(request, cancellationToken), prefix, cancellationToken).ConfigureAwait(false);
            foreach (var common in page.CommonPrefixes ?? [])
            {
                var name = common[folder.Length..].TrimEnd('/');
                if (name.Length > 0) names.Add(name);
            }
            request.ContinuationToken = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);
        names.Sort(StringComparer.Ordinal);
        foreach (var name in names) yield return name;
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var folder = FolderKey(prefix);
        var request = new ListObjectsV2Request { BucketName = Location.Bucket, Prefix = folder, MaxKeys = _settings.PageSize };
        var root = Location.ObjectKey("").Length;
        do
        {
            var page = await CallAsync(() => _client.ListObjectsV2Async(request, cancellationToken), prefix, cancellationToken).ConfigureAwait(false);
            foreach (var o in page.S3Objects ?? [])
            {
                if (o.Key.EndsWith('/')) continue; // a "folder marker" some tools create
                var modified = o.LastModified is { } m ? new DateTimeOffset(m.ToUniversalTime()) : DateTimeOffset.UnixEpoch;
                yield return new ObjectInfo(o.Key[root..], o.Size ?? 0, modified, o.ETag);
            }
            request.ContinuationToken = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var response = await GetAsync(key, 0, null, cancellationToken).ConfigureAwait(false);
        return new S3ReadStream(this, key, response, _settings);
    }

    /// <summary>GetObject from <paramref name="offset"/> on; with <paramref name="etag"/>, only while the object is unchanged.</summary>
    internal Task<GetObjectResponse> GetAsync(string key, long offset, string? etag, CancellationToken cancellationToken)
    {
        var request = new GetObjectRequest { BucketName = Location.Bucket, Key = Location.ObjectKey(key) };
        if (offset > 0) request.ByteRange = new ByteRange($"bytes={offset}-");
        if (etag is not null) request.EtagToMatch = etag;
        return CallAsync(() => _client.GetObjectAsync(request, cancellationToken), key, cancellationToken);
    }

    public Task WriteAtomicAsync(string key, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken) =>
        WriteAllAtomicAsync([new ObjectWrite(key, write)], cancellationToken);

    /// <remarks>
    /// Every output is written whole to a local file first (outputs are bounded by distinct keys, not by the input; on Unix
    /// the file has no name, so a killed process leaves none behind); only when all are is each uploaded, at once, by one request that either succeeds or leaves the previous object as it was. A failed
    /// upload while others succeeded leaves those replaced (each whole); the retried run writes them all again.
    /// </remarks>
    public async Task WriteAllAtomicAsync(IReadOnlyList<ObjectWrite> writes, CancellationToken cancellationToken)
    {
        var files = new FileStream?[writes.Count];
        try
        {
            await Task.WhenAll(writes.Select(async (w, i) => files[i] = await StageAsync(w, cancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
            await Task.WhenAll(writes.Select((w, i) => UploadAsync(w.Key, files[i]!, cancellationToken))).ConfigureAwait(false);
        }
        finally
        {
            foreach (var file in files)
            {
                if (file is not null) await file.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes one output to a local file, open for the upload and positioned at its start.</summary>
    private async Task<FileStream> StageAsync(ObjectWrite write, CancellationToken cancellationToken)
    {
        FileStream file;
        try
        {
            file = UnnamedFile.Create("tally-upload-", 1 << 16);
        }
        catch (IOException e)
        {
            throw TallyException.Transient($"Cannot write '{Describe(write.Key)}': {e.Message}", e);
        }
        try
        {
            await write.Write(file, cancellationToken).ConfigureAwait(false);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Position = 0;
            return file;
        }
        catch (IOException e)
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw TallyException.Transient($"Cannot write '{Describe(write.Key)}': {e.Message}", e);
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task UploadAsync(string key, FileStream file, CancellationToken cancellationToken)
    {
        try
        {
            if (file.Length > _settings.MultipartThreshold)
            {
                using var transfer = new TransferUtility(_client, new TransferUtilityConfig { MinSizeBeforePartUpload = _settings.MultipartThreshold });
                var upload = new TransferUtilityUploadRequest
                {
                    BucketName = Location.Bucket, Key = Location.ObjectKey(key), InputStream = file, AutoCloseStream = false,
                    PartSize = Math.Max(8L << 20, _settings.MultipartThreshold / 4),
                };
                await CallAsync(async () => { await transfer.UploadAsync(upload, cancellationToken).ConfigureAwait(false); return true; }, key, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var put = new PutObjectRequest { BucketName = Location.Bucket, Key = Location.ObjectKey(key), InputStream = file, AutoCloseStream = false };
                await CallAsync(() => _client.PutObjectAsync(put, cancellationToken), key, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (IOException e)
        {
            throw TallyException.Transient($"Cannot write '{Describe(key)}': {e.Message}", e);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var request = new DeleteObjectRequest { BucketName = Location.Bucket, Key = Location.ObjectKey(key) };
        await CallAsync(() => _client.DeleteObjectAsync(request, cancellationToken), key, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _client.Dispose();

    /// <summary>The object-key prefix of a store "folder": the root's prefix, the folder, and '/'.</summary>
    private string FolderKey(string prefix)
    {
        var trimmed = prefix.Trim('/');
        return trimmed.Length == 0 ? Location.ObjectKey("") : Location.ObjectKey(trimmed) + "/";
    }

    /// <summary>Runs one SDK call (which retries by itself) and turns what is left of its failures into <see cref="TallyException"/>s.</summary>
    private async Task<T> CallAsync<T>(Func<Task<T>> call, string key, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not TallyException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw Translate(e, key);
        }
    }

    /// <summary>The <see cref="TallyException"/> for a failed S3 call on <paramref name="key"/>.</summary>
    internal TallyException Translate(Exception e, string key)
    {
        var where = Describe(key);
        if (e is AmazonS3Exception s3)
        {
            var code = s3.ErrorCode ?? "";
            var status = (int)s3.StatusCode;
            return code switch
            {
                "NoSuchBucket" => TallyException.NotFound($"The bucket '{Location.Bucket}' does not exist."),
                "NoSuchKey" => TallyException.NotFound($"'{where}' does not exist."),
                "InvalidAccessKeyId" => TallyException.InvalidArgument(
                    $"The store does not know the AWS access key id in use; check AWS_ACCESS_KEY_ID or the profile (reaching '{where}')."),
                "SignatureDoesNotMatch" => TallyException.InvalidArgument(
                    $"The store refused the request's signature: the AWS secret access key does not match the access key id (reaching '{where}')."),
                "ExpiredToken" or "InvalidToken" => TallyException.InvalidArgument(
                    $"The AWS session token has expired or is not valid; renew the credentials (reaching '{where}')."),
                "AccessDenied" or "AllAccessDisabled" => TallyException.InvalidArgument(
                    $"Access to '{where}' was denied: the credentials lack permission for it."),
                "PreconditionFailed" => TallyException.Transient($"'{where}' changed while it was being read; run again.", e),
                _ when status == 403 => TallyException.InvalidArgument($"Access to '{where}' was denied (HTTP 403 {code}): check the credentials and their permissions."),
                _ when status == 404 => TallyException.NotFound($"'{where}' does not exist (HTTP 404 {code})."),
                _ when status >= 500 || code is "SlowDown" or "RequestTimeout" or "Throttling" or "RequestTimeTooSkewed" => TallyException.Transient(
                    $"The S3 store failed on '{where}' after {_settings.MaxAttempts} attempts: {status} {code} {FirstLine(s3.Message)}", e),
                _ => TallyException.InvalidArgument($"The S3 store refused a request on '{where}': {status} {code} {FirstLine(s3.Message)}"),
            };
        }
        if (e is AmazonServiceException { StatusCode: HttpStatusCode.Forbidden })
        {
            return TallyException.InvalidArgument($"Access to '{where}' was denied (HTTP 403): check the credentials and their permissions.");
        }
        if (e is AmazonClientException client && client.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase) && client.InnerException is not (IOException or HttpRequestException))
        {
            return TallyException.InvalidArgument(
                $"No AWS credentials were found for '{where}': set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE ({FirstLine(client.Message)}).");
        }
        var at = _settings.Endpoint is { } endpoint ? $" at {endpoint.GetLeftPart(UriPartial.Authority)}" : "";
        return TallyException.Transient($"The S3 store{at} could not be reached for '{where}' after {_settings.MaxAttempts} attempts: {FirstLine(e.Message)}", e);
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
