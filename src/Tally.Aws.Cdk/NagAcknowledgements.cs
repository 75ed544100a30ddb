using Amazon.CDK;
using Constructs;

namespace Tally.Aws.Cdk;

/// <summary>
/// cdk-nag findings this app accepts, each with its reason, written into the resource's template metadata in cdk-nag's
/// format (<c>"Metadata": {"cdk_nag": {"rules_to_suppress": [{"id": "AwsSolutions-S1", "reason": "…"}]}}</c>).
/// <c>.ci/aws-checks.sh</c> runs cdk-nag's AwsSolutions rules over the synthesized templates
/// (<c>.tools/aws-checks/nag.js</c>) and fails on any finding that is neither fixed nor acknowledged here, and on any
/// acknowledgement that matches no finding. An id without a <c>[…]</c> part covers every finding of that rule on the resource
/// (IAM5 names each wildcard apart); the reason then says which wildcards and why.
/// </summary>
internal static class NagAcknowledgements
{
    /// <summary>The metadata key cdk-nag reads and writes.</summary>
    public const string MetadataKey = "cdk_nag";

    /// <summary>Acknowledges findings on the CloudFormation resource of <paramref name="scope"/> (itself, or its default child).</summary>
    /// <exception cref="InvalidOperationException">When <paramref name="scope"/> has no CloudFormation resource, or already has acknowledgements.</exception>
    public static void Add(IConstruct scope, params (string Rule, string Reason)[] findings)
    {
        var resource = scope as CfnResource ?? scope.Node.DefaultChild as CfnResource
            ?? throw new InvalidOperationException($"{scope.Node.Path} has no CloudFormation resource to acknowledge cdk-nag findings on.");
        if (resource.GetMetadata(MetadataKey) is not null)
        {
            throw new InvalidOperationException($"{resource.Node.Path} already has cdk-nag acknowledgements: give them all in one call.");
        }
        resource.AddMetadata(MetadataKey, new Dictionary<string, object>
        {
            ["rules_to_suppress"] = findings.Select(f => (object)new Dictionary<string, object> { ["id"] = f.Rule, ["reason"] = f.Reason }).ToArray(),
        });
    }
}
