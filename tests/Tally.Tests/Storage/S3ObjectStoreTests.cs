using System.Security.Cryptography;
using System.Text;
using Tally.Storage;

namespace Tally.Tests.Storage;

/// <summary>The <see cref="IObjectStore"/> contract of <see cref="S3ObjectStore"/>, against a real S3-compatible server (s3rver).</summary>
[Collection(S3rverCollection.Name)]
public sealed class S3ObjectStoreTests(S3rverFixture s3)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [S3Fact]
    public async Task List_ReturnsEveryObjectUnderThePrefix_AcrossPages()
    {
        using var store = await s3.NewStoreAsync("root", s3.Settings() with { PageSize = 3 });
        for (var i = 0; i < 10; i++) await WriteAsync(store, $"t/k={i:D2}/part.json", $"object {i}");
        await WriteAsync(store, "other/x.json", "not under t/");

        var listed = await ToListAsync(store.ListAsync("t/", None));

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"t/k={i:D2}/part.json"), listed.Select(o => o.Key).Order(StringComparer.Ordinal));
        Assert.All(listed, o => Assert.Equal(Encoding.UTF8.GetByteCount("object 0"), o.Size));
        Assert.All(listed, o => Assert.False(string.IsNullOrEmpty(o.ETag)));
        Assert.Equal(11, (await ToListAsync(store.ListAsync("", None))).Count);
        Assert.Empty(await ToListAsync(store.ListAsync("missing/", None)));
    }

    [S3Fact]
    public async Task ListFolders_ReturnsImmediateChildren_WhateverTheirDepth()
    {
        using var store = await s3.NewStoreAsync("root", s3.Settings() with { PageSize = 2 });
        await WriteAsync(store, "raw_data/year=2026/month=11/day=24/hour=13/minute=00/a.json", "a");
        await WriteAsync(store, "raw_data/year=2025/b.json", "b");
        await WriteAsync(store, "raw_data/top.json", "c");
        await WriteAsync(store, "raw_data_other/year=2024/c.json", "d");

        Assert.Equal(["year=2025", "year=2026"], await ToListAsync(store.ListFoldersAsync("raw_data", None)));
        Assert.Equal(["month=11"], await ToListAsync(store.ListFoldersAsync("raw_data/year=2026/", None)));
        Assert.Equal(["raw_data", "raw_data_other"], await ToListAsync(store.ListFoldersAsync("", None)));
        Assert.Empty(await ToListAsync(store.ListFoldersAsync("nothing", None)));
    }

    [S3Fact]
    public async Task OpenRead_StreamsTheWholeObject_AndMissingKeysAreNotFound()
    {
        using var store = await s3.NewStoreAsync();
        var content = RandomNumberGenerator.GetBytes(3 << 20);
        await store.WriteAtomicAsync("big.bin", (s, ct) => s.WriteAsync(content, ct).AsTask(), None);

        await using (var stream = await store.OpenReadAsync("big.bin", None))
        {
            var copy = new MemoryStream();
            var buffer = new byte[64 << 10];
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0) copy.Write(buffer, 0, read);
            Assert.Equal(content, copy.ToArray());
        }
        var missing = await Assert.ThrowsAsync<TallyException>(() => store.OpenReadAsync("nope.json", None));
        Assert.Equal(TallyErrorKind.NotFound, missing.Kind);
    }

    [S3Fact]
    public async Task WriteAtomic_ReplacesTheObject_AndLeavesTheOldOneWhenTheWriterFails()
    {
        using var store = await s3.NewStoreAsync();
        await WriteAsync(store, "t/part-00000.json", "first");
        await WriteAsync(store, "t/part-00000.json", "second");

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteAtomicAsync("t/part-00000.json", async (s, ct) =>
        {
            await s.WriteAsync("half of a third"u8.ToArray(), ct);
            throw new InvalidOperationException("the writer failed");
        }, None));

        Assert.Equal("second", await ReadAsync(store, "t/part-00000.json"));
        Assert.Equal([$"{store.Location.Prefix}/t/part-00000.json"], await s3.AllKeysAsync(store.Location.Bucket));
    }

    [S3Fact]
    public async Task WriteAtomic_UploadsInParts_AboveTheMultipartThreshold()
    {
        await using var proxy = await FaultProxy.StartAsync(s3.Endpoint);
        using var direct = await s3.NewStoreAsync();
        using var store = new S3ObjectStore(direct.Location, s3.Settings(proxy.Endpoint) with { MultipartThreshold = 5 << 20 });
        var content = RandomNumberGenerator.GetBytes(17 << 20);

        await store.WriteAtomicAsync("large.bin", (s, ct) => s.WriteAsync(content, ct).AsTask(), None);

        var listed = Assert.Single(await ToListAsync(store.ListAsync("", None)));
        Assert.Equal(content.Length, listed.Size);
        Assert.Contains(proxy.Requests, r => r.StartsWith("POST ", StringComparison.Ordinal) && r.Contains("uploads", StringComparison.Ordinal));
        Assert.True(proxy.Requests.Count(r => r.StartsWith("PUT ", StringComparison.Ordinal) && r.Contains("partNumber=", StringComparison.Ordinal)) >= 3);
        await using var stream = await store.OpenReadAsync("large.bin", None);
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
    }

    [S3Fact]
    public async Task Delete_RemovesTheObject_AndIgnoresMissingOnes()
    {
        using var store = await s3.NewStoreAsync();
        await WriteAsync(store, "a.json", "a");

        await store.DeleteAsync("a.json", None);
        await store.DeleteAsync("never-there.json", None);

        Assert.Empty(await s3.AllKeysAsync(store.Location.Bucket));
    }

    [S3Fact]
    public async Task MissingBucket_IsNotFound_WithTheBucketsName()
    {
        using var store = new S3ObjectStore(S3Location.Parse("s3://no-such-bucket-here/data"), s3.Settings());

        var error = await Assert.ThrowsAsync<TallyException>(() => ToListAsync(store.ListAsync("raw_data/", None)));

        Assert.Equal(TallyErrorKind.NotFound, error.Kind);
        Assert.Equal("The bucket 'no-such-bucket-here' does not exist.", error.Message);
    }

    [S3Fact]
    public async Task UnknownAccessKey_IsAnInvalidArgument_ThatSaysSo()
    {
        using var good = await s3.NewStoreAsync();
        using var store = new S3ObjectStore(good.Location, s3.Settings() with { AccessKeyId = "NOT-A-KEY" });

        var error = await Assert.ThrowsAsync<TallyException>(() => store.OpenReadAsync("a.json", None));

        Assert.Equal(TallyErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("access key id", error.Message, StringComparison.Ordinal);
    }

    [S3Theory]
    [InlineData(403, "AccessDenied", TallyErrorKind.InvalidArgument, "was denied")]
    [InlineData(403, "InvalidAccessKeyId", TallyErrorKind.InvalidArgument, "access key id")]
    [InlineData(403, "SignatureDoesNotMatch", TallyErrorKind.InvalidArgument, "secret access key")]
    [InlineData(404, "NoSuchBucket", TallyErrorKind.NotFound, "does not exist")]
    [InlineData(503, "SlowDown", TallyErrorKind.Transient, "after 2 attempts")]
    [InlineData(500, "InternalError", TallyErrorKind.Transient, "after 2 attempts")]
    public async Task StoreErrors_BecomeTallyExceptions_OfTheRightKind(int status, string code, TallyErrorKind kind, string saying)
    {
        await using var proxy = await FaultProxy.StartAsync(s3.Endpoint);
        proxy.ErrorCode = code;
        proxy.ErrorStatus = status;
        using var store = new S3ObjectStore(S3Location.Parse("s3://some-bucket/data"), s3.Settings(proxy.Endpoint) with { MaxAttempts = 2 });

        var read = await Assert.ThrowsAsync<TallyException>(() => store.OpenReadAsync("a.json", None));
        var write = await Assert.ThrowsAsync<TallyException>(() => WriteAsync(store, "a.json", "a"));

        Assert.Equal(kind, read.Kind);
        Assert.Contains(saying, read.Message, StringComparison.Ordinal);
        Assert.Equal(kind, write.Kind);
    }

    [Theory]
    [InlineData("s3://bucket", "bucket", "")]
    [InlineData("s3://bucket/", "bucket", "")]
    [InlineData("S3://my.bucket-1/a/b/", "my.bucket-1", "a/b")]
    public void S3Location_Parses_BucketAndPrefix(string text, string bucket, string prefix)
    {
        Assert.True(S3Location.TryParse(text, out var location));
        Assert.Equal(bucket, location.Bucket);
        Assert.Equal(prefix, location.Prefix);
    }

    [Theory]
    [InlineData("./tally-data")]
    [InlineData("s3://")]
    [InlineData("s3://Upper/x")]
    [InlineData("s3://ab/x")]
    [InlineData("s3://bucket/a//b")]
    [InlineData("s3://bucket/../b")]
    public void S3Location_Rejects_WhatIsNotAnS3Location(string text) => Assert.False(S3Location.TryParse(text, out _));

    internal static Task WriteAsync(IObjectStore store, string key, string text) =>
        store.WriteAtomicAsync(key, (s, ct) => s.WriteAsync(Encoding.UTF8.GetBytes(text), ct).AsTask(), None);

    private static async Task<string> ReadAsync(IObjectStore store, string key)
    {
        await using var stream = await store.OpenReadAsync(key, None);
        return await new StreamReader(stream).ReadToEndAsync();
    }

    internal static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }
}
