using Microsoft.Extensions.Options;

namespace Tally.Storage;

/// <summary>
/// The <c>S3</c> section of the settings (file, <c>TALLY_S3__*</c> variables, the <c>--s3-*</c> options): how to reach S3
/// data. Unset values fall back to the AWS environment (<see cref="S3Settings.FromEnvironment"/>).
/// </summary>
public sealed class S3ConnectionSettings
{
    /// <summary>The settings section these are bound from.</summary>
    public const string Section = "S3";

    /// <summary>A custom endpoint (MinIO, Ceph, R2, ...), e.g. <c>http://127.0.0.1:9000</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Path-style addressing (endpoint/bucket/key); default true with a custom endpoint.</summary>
    public bool? PathStyle { get; set; }

    /// <summary>The region (the signing region with a custom endpoint).</summary>
    public string? Region { get; set; }

    /// <summary>A profile of the shared AWS config files.</summary>
    public string? Profile { get; set; }

    /// <inheritdoc cref="S3Settings.MaxAttempts"/>
    public int MaxAttempts { get; set; } = new S3Settings().MaxAttempts;

    /// <inheritdoc cref="S3Settings.RequestTimeout"/>
    public TimeSpan RequestTimeout { get; set; } = new S3Settings().RequestTimeout;

    /// <inheritdoc cref="S3Settings.ReadIdleTimeout"/>
    public TimeSpan ReadIdleTimeout { get; set; } = new S3Settings().ReadIdleTimeout;

    /// <summary>The connection these settings give, over the AWS environment's (<paramref name="variable"/> reads it).</summary>
    /// <exception cref="TallyException">InvalidArgument when an endpoint is not an http(s) URL.</exception>
    public S3Settings Resolve(Func<string, string?>? variable = null)
    {
        var environment = S3Settings.FromEnvironment(variable);
        return environment with
        {
            Endpoint = Endpoint is { Length: > 0 } endpoint ? S3Settings.ParseEndpoint(endpoint) : environment.Endpoint,
            ForcePathStyle = PathStyle ?? environment.ForcePathStyle,
            Region = Region ?? environment.Region,
            Profile = Profile ?? environment.Profile,
            MaxAttempts = MaxAttempts,
            RequestTimeout = RequestTimeout,
            ReadIdleTimeout = ReadIdleTimeout,
        };
    }
}

/// <summary>The rules of the <c>S3</c> section, checked once when the settings are loaded.</summary>
internal sealed class S3ConnectionSettingsValidator : IValidateOptions<S3ConnectionSettings>
{
    public ValidateOptionsResult Validate(string? name, S3ConnectionSettings options)
    {
        var failures = new List<string>();
        if (options.Endpoint is { Length: > 0 } endpoint && !S3Settings.IsEndpoint(endpoint, out _))
        {
            failures.Add($"S3:Endpoint '{endpoint}' is not an http:// or https:// URL.");
        }
        if (options.MaxAttempts < 1) failures.Add("S3:MaxAttempts must be 1 or more.");
        if (options.RequestTimeout <= TimeSpan.Zero) failures.Add("S3:RequestTimeout must be positive.");
        if (options.ReadIdleTimeout <= TimeSpan.Zero) failures.Add("S3:ReadIdleTimeout must be positive.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
