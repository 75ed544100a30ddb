using System.Collections.Concurrent;
using System.Diagnostics;
using Amazon.CDK.AWS.Lambda;

namespace Tally.Aws.Cdk;

/// <summary>
/// Builds the deployment package of Tally's Lambda functions (ComputeTargetHour and AggregateHour share it) at synth with
/// <c>dotnet publish</c> (offline, no Docker), once per synth.
/// </summary>
internal static class LambdaPackage
{
    public const string Project = "Tally.Aws.Lambda";

    /// <summary>The ComputeTargetHour function's handler.</summary>
    public const string Handler = "Tally.Aws.Lambda::Tally.Aws.Lambda.Function::Handler";

    /// <summary>The AggregateHour function's handler: Tally's engine on the bucket.</summary>
    public const string AggregateHourHandler = "Tally.Aws.Lambda::Tally.Aws.Lambda.AggregateHourFunction::Handler";

    private static readonly ConcurrentDictionary<string, string> Published = new(StringComparer.Ordinal);

    /// <summary>The managed .NET 10 runtime; CDK 2.160 predates its constant.</summary>
    public static Runtime Runtime { get; } = new("dotnet10", RuntimeFamily.DOTNET_CORE);

    /// <summary>The function's architecture; the package is published for the matching runtime identifier.</summary>
    public static Architecture Architecture => Architecture.ARM_64;

    private const string RuntimeIdentifier = "linux-arm64";

    /// <summary>
    /// The folder to deploy: <see cref="DeploymentSettings.LambdaAssetDirectory"/> when given, otherwise the output of
    /// <c>dotnet publish src/Tally.Aws.Lambda -c Release -r linux-arm64 --self-contained false</c> (ReadyToRun, see its csproj),
    /// published at the first call for a repository and reused by the next.
    /// </summary>
    /// <exception cref="TallyException">When the publish fails or the given folder does not exist.</exception>
    public static string Directory(DeploymentSettings settings)
    {
        if (settings.LambdaAssetDirectory is { } given)
        {
            return System.IO.Directory.Exists(given)
                ? given
                : throw TallyException.NotFound($"{DeploymentSettings.LambdaAssetDirKey} '{given}' is not a folder.");
        }

        return Published.GetOrAdd(settings.RepositoryRoot, Publish);
    }

    private static string Publish(string repositoryRoot)
    {
        var projectDir = Path.Combine(repositoryRoot, "src", Project);
        var output = Path.Combine(projectDir, "bin", "lambda-package");
        if (System.IO.Directory.Exists(output)) System.IO.Directory.Delete(output, recursive: true);
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                "publish", Path.Combine(projectDir, $"{Project}.csproj"), "--configuration", "Release",
                "--runtime", RuntimeIdentifier, "--self-contained", "false", "-p:UseAppHost=false",
                "-p:GenerateDocumentationFile=false", "--output", output, "--nologo", "--verbosity", "quiet",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw TallyException.NotFound("Cannot start 'dotnet' to publish the Lambda.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw TallyException.InvalidConfiguration($"'dotnet publish' of {Project} failed ({process.ExitCode}): {stdout.Result}{stderr.Result}");
        }
        return output;
    }
}
