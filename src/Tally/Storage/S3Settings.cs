using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;

namespace Tally.Storage;

/// <summary>
/// How to reach an S3 or S3-compatible store. Anything left null comes from the standard AWS mechanisms: credentials
/// from <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>(/<c>AWS_SESSION_TOKEN</c>), <c>AWS_PROFILE</c> and the shared
/// credentials file, or the instance role; the region from <c>AWS_REGION</c> or the profile; the endpoint from
/// <c>AWS_ENDPOINT_URL_S3</c>/<c>AWS_ENDPOINT_URL</c> (see <see cref="FromEnvironment"/>). Tally's own settings of these are
/// the <c>S3</c> section of the settings (S3ConnectionSettings).
/// </summary>
public sealed record S3Settings
{
    /// <summary>A custom endpoint (MinIO, Ceph, R2, a test server), e.g. <c>http://127.0.0.1:9000</c>; null for Amazon S3.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>Path-style addressing (<c>endpoint/bucket/key</c>); most S3-compatible stores need it. Default: true with a custom endpoint.</summary>
    public bool? ForcePathStyle { get; init; }

    /// <summary>The region (e.g. <c>eu-west-1</c>); with a custom endpoint it is only the signing region (default <c>us-east-1</c>).</summary>
    public string? Region { get; init; }

    /// <summary>A named profile of the shared AWS config/credentials files.</summary>
    public string? Profile { get; init; }

    /// <summary>Explicit credentials (tests, tools); both or neither.</summary>
    public string? AccessKeyId { get; init; }

    public string? SecretAccessKey { get; init; }

    /// <summary>Attempts per request, the first included, for throttling (503 SlowDown), 5xx, timeouts and dropped connections.</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>How long one request may take until its response starts; a stalled request is then retried.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a streaming read may wait for the next bytes before the download is resumed from where it stopped.</summary>
    public TimeSpan ReadIdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Objects larger than this are uploaded in parts (multipart upload), smaller ones with one PUT.</summary>
    public long MultipartThreshold { get; init; } = 64L << 20;

    /// <summary>Keys per listing page (S3's maximum is 1000); tests make it small to force paging.</summary>
    public int PageSize { get; init; } = 1000;

    /// <summary>
    /// The settings the AWS environment gives: <c>AWS_ENDPOINT_URL_S3</c> (else <c>AWS_ENDPOINT_URL</c>), <c>AWS_REGION</c>
    /// (else <c>AWS_DEFAULT_REGION</c>) and <c>AWS_PROFILE</c>.
    /// </summary>
    /// <exception cref="TallyException">InvalidArgument when the endpoint is not an http(s) URL.</exception>
    public static S3Settings FromEnvironment(Func<string, string?>? variable = null)
    {
        variable ??= Environment.GetEnvironmentVariable;
        string? Get(params string[] names) => names.Select(variable).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
        var endpoint = Get("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
        return new S3Settings
        {
            Endpoint = endpoint is null ? null : ParseEndpoint(endpoint),
            Region = Get("AWS_REGION", "AWS_DEFAULT_REGION"),
            Profile = Get("AWS_PROFILE"),
        };
    }

    /// <exception cref="TallyException">InvalidArgument when <paramref name="text"/> is not an absolute http(s) URL.</exception>
    public static Uri ParseEndpoint(string text) =>
        IsEndpoint(text, out var uri) ? uri : throw TallyException.InvalidArgument($"The S3 endpoint '{text}' is not an http:// or https:// URL.");

    /// <summary>Whether <paramref name="text"/> is an absolute http(s) URL, the only endpoints accepted.</summary>
    internal static bool IsEndpoint(string text, out Uri uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri!) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>A client configured by these settings: retries (standard mode), timeouts, checksums only where required.</summary>
    /// <exception cref="TallyException">InvalidArgument when the profile or the region is not known, or only half the credentials are given.</exception>
    internal AmazonS3Client CreateClient()
    {
        var config = new AmazonS3Config
        {
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = Math.Max(0, MaxAttempts - 1),
            Timeout = RequestTimeout,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            // S3-compatible stores do not all support the newer default checksums; S3 itself accepts either.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (Endpoint is not null)
        {
            config.ServiceURL = Endpoint.ToString();
            config.ForcePathStyle = ForcePathStyle ?? true;
            config.AuthenticationRegion = Region ?? "us-east-1";
        }
        else
        {
            config.ForcePathStyle = ForcePathStyle ?? false;
            if (Region is not null) config.RegionEndpoint = RegionEndpoint.GetBySystemName(Region);
        }
        if (Profile is not null) config.Profile = new Profile(Profile);

        var credentials = Credentials();
        try
        {
            return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
        }
        catch (AmazonClientException e)
        {
            throw TallyException.InvalidArgument($"Cannot configure the S3 client: {e.Message}");
        }
    }

    private AWSCredentials? Credentials()
    {
        if (AccessKeyId is not null || SecretAccessKey is not null)
        {
            if (string.IsNullOrEmpty(AccessKeyId) || string.IsNullOrEmpty(SecretAccessKey))
            {
                throw TallyException.InvalidArgument("Give both the S3 access key id and the secret access key, or neither.");
            }
            return new BasicAWSCredentials(AccessKeyId, SecretAccessKey);
        }
        if (Profile is null) return null;
        return new CredentialProfileStoreChain().TryGetAWSCredentials(Profile, out var fromProfile)
            ? fromProfile
            : throw TallyException.InvalidArgument($"The AWS profile '{Profile}' was not found in the shared config or credentials files.");
    }
}
