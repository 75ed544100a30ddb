using System.Globalization;
using Tally.Storage;

namespace Tally.Aws.Lambda;

/// <summary>
/// What the CDK app sets in the functions' environment: where the data is (<c>TALLY_DATA</c>, <c>s3://bucket</c> or
/// <c>s3://bucket/prefix</c>) and how long an hour's lease lasts (<c>TALLY_LEASE_SECONDS</c>). The S3 client takes its
/// region and credentials from the variables Lambda sets (<c>AWS_REGION</c>, <c>AWS_ACCESS_KEY_ID</c>, …).
/// </summary>
internal static class LambdaEnvironment
{
    public const string DataVariable = "TALLY_DATA";
    public const string LeaseSecondsVariable = "TALLY_LEASE_SECONDS";

    /// <summary>The store of <c>TALLY_DATA</c>.</summary>
    /// <exception cref="TallyException">InvalidConfiguration when the variable is missing or not an <c>s3://</c> location.</exception>
    public static S3ObjectStore OpenStore()
    {
        var data = Environment.GetEnvironmentVariable(DataVariable);
        if (string.IsNullOrWhiteSpace(data) || !S3Location.TryParse(data, out var location))
        {
            throw TallyException.InvalidConfiguration($"The function's environment variable {DataVariable} must name the data bucket as s3://bucket, not '{data}'.");
        }
        return new S3ObjectStore(location, S3Settings.FromEnvironment());
    }

    /// <summary>The lease duration of <c>TALLY_LEASE_SECONDS</c>.</summary>
    /// <exception cref="TallyException">InvalidConfiguration when the variable is missing or not a positive whole number.</exception>
    public static TimeSpan LeaseDuration()
    {
        var text = Environment.GetEnvironmentVariable(LeaseSecondsVariable);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : throw TallyException.InvalidConfiguration($"The function's environment variable {LeaseSecondsVariable} must be a whole number of seconds, not '{text}'.");
    }
}
