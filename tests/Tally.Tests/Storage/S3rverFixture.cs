using System.Diagnostics;
using Amazon.S3;
using Amazon.S3.Model;
using Tally.Storage;
using S3Location = Tally.Storage.S3Location;

namespace Tally.Tests.Storage;

/// <summary>
/// A real S3-compatible server (@20minutes/s3rver, tests/s3rver/server.js) on 127.0.0.1 for the tests of one collection:
/// started on a free port before the first test, stopped (with its process tree and its temporary directory) after the last.
/// Installs tests/s3rver's node_modules when they are missing. Each test takes a fresh bucket (<see cref="NewBucketAsync"/>).
/// </summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    /// <summary>s3rver accepts any credentials (allowMismatchedSignatures); these are the ones its docs use.</summary>
    public const string AccessKey = "S3RVER";

    private Process? _server;
    private AmazonS3Client? _admin;
    private int _buckets;

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Settings that reach the server directly (or through <paramref name="endpoint"/>, e.g. a proxy in front of it).</summary>
    public S3Settings Settings(Uri? endpoint = null) => new()
    {
        Endpoint = endpoint ?? Endpoint,
        AccessKeyId = AccessKey,
        SecretAccessKey = AccessKey,
    };

    /// <summary>Creates an empty bucket with a unique name.</summary>
    public async Task<string> NewBucketAsync()
    {
        var name = $"test-{Interlocked.Increment(ref _buckets):D3}-{Guid.NewGuid():N}"[..30];
        await _admin!.PutBucketAsync(new PutBucketRequest { BucketName = name });
        return name;
    }

    /// <summary>A store on a new bucket under <paramref name="prefix"/>.</summary>
    public async Task<S3ObjectStore> NewStoreAsync(string prefix = "data", S3Settings? settings = null) =>
        new(S3Location.Parse($"s3://{await NewBucketAsync()}/{prefix}"), settings ?? Settings());

    /// <summary>Every object key in <paramref name="bucket"/>, sorted (listed directly, not through Tally).</summary>
    public async Task<IReadOnlyList<string>> AllKeysAsync(string bucket)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = bucket };
        do
        {
            var page = await _admin!.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            request.ContinuationToken = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);
        return keys.Order(StringComparer.Ordinal).ToList();
    }

    public async Task InitializeAsync()
    {
        var folder = ServerFolder();
        if (!File.Exists(Path.Combine(folder, "node_modules", "@20minutes", "s3rver", "package.json")))
        {
            await RunAsync("bash", [Path.Combine(folder, "install.sh")], TimeSpan.FromMinutes(3));
        }
        var start = new ProcessStartInfo("node", [Path.Combine(folder, "server.js"), "0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // the server stops when this pipe closes, even if this process is killed
            UseShellExecute = false,
        };
        start.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
        _server = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var line = _server.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(line, Task.Delay(TimeSpan.FromSeconds(30))) != line || line.Result is not { } text || !text.StartsWith("listening ", StringComparison.Ordinal))
        {
            var error = _server.HasExited ? await _server.StandardError.ReadToEndAsync() : "no answer within 30 s";
            await DisposeAsync();
            throw new InvalidOperationException($"s3rver did not start: {error}");
        }
        Endpoint = new Uri($"http://127.0.0.1:{int.Parse(text["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture)}");
        _admin = Settings().CreateClient();
    }

    public Task DisposeAsync()
    {
        _admin?.Dispose();
        if (_server is { } server)
        {
            try
            {
                server.StandardInput.Close();
                if (!server.WaitForExit(3_000)) server.Kill(entireProcessTree: true);
                server.WaitForExit(3_000);
            }
            catch (InvalidOperationException)
            {
            }
            server.Dispose();
            _server = null;
        }
        return Task.CompletedTask;
    }

    /// <summary>tests/s3rver in the repository this test assembly was built from.</summary>
    internal static string ServerFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "s3rver");
            if (File.Exists(Path.Combine(candidate, "server.js"))) return candidate;
        }
        throw new InvalidOperationException("tests/s3rver/server.js was not found above the test assembly's folder.");
    }

    private static async Task RunAsync(string file, string[] args, TimeSpan timeout)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {await output}{await error}");
    }
}

[CollectionDefinition(Name)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "s3rver";
}

/// <summary>
/// A test that needs Node (for s3rver). Skipped with a message when node is not on the PATH, except on CI (the CI variable
/// is set): there a missing node fails the tests instead of skipping them silently.
/// </summary>
public sealed class S3FactAttribute : FactAttribute
{
    public S3FactAttribute()
    {
        if (S3Environment.SkipReason is { } reason) Skip = reason;
    }
}

/// <inheritdoc cref="S3FactAttribute"/>
public sealed class S3TheoryAttribute : TheoryAttribute
{
    public S3TheoryAttribute()
    {
        if (S3Environment.SkipReason is { } reason) Skip = reason;
    }
}

internal static class S3Environment
{
    public static readonly string? SkipReason =
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")) || NodeIsOnPath() ? null
        : "node is not installed: the S3 tests need it to run s3rver (tests/s3rver); install Node 20 to run them.";

    private static bool NodeIsOnPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, "node")));
}
