using Amazon.CDK;
using Amazon.CDK.AWS.Lambda;
using Amazon.JSII.Runtime.Deputy;
using Constructs;
using Newtonsoft.Json;

namespace Tally.Aws.Cdk;

/// <summary>
/// Runs CDK's own helper functions (the bucket's AutoDeleteObjects provider, the demo run's custom resource provider, and
/// any other) on a Node.js runtime that Lambda supports. CDK 2.160 puts them on <c>nodejs20.x</c>, deprecated since
/// 2026-04-30, on which Lambda no longer creates functions: the first <c>cdk deploy</c> would roll back. Newer CDK versions,
/// which move on by themselves, do not restore here. This Aspect sets <see cref="Runtime"/> on every
/// <c>AWS::Lambda::Function</c> whose runtime is Node.js (a literal <c>nodejs…</c> or CDK's region map of its latest Node
/// runtime) and removes that map; functions on other runtimes (the .NET functions, BucketDeployment's Python) keep theirs.
/// The template tests fail on any runtime Lambda has deprecated.
/// </summary>
internal sealed class NodeHelperRuntime : DeputyBase, IAspect
{
    /// <summary>The Node.js runtime of the helper functions: supported until 2027-04-30 (Lambda's runtime table).</summary>
    public const string Runtime = "nodejs22.x";

    /// <summary>The CfnMapping CDK 2.160 adds to a stack for the runtime of its helper functions when the region is unknown at synth.</summary>
    private const string LatestNodeRuntimeMap = "LatestNodeRuntimeMap";

    /// <summary>The runtime for functions this app creates in Node.js itself.</summary>
    public static Amazon.CDK.AWS.Lambda.Runtime NodeRuntime { get; } = new(Runtime, RuntimeFamily.NODEJS);

    public void Visit(IConstruct node)
    {
        if (node is Stack stack)
        {
            // Children are visited after their stack: the functions that read the map are all overridden below.
            stack.Node.TryRemoveChild(LatestNodeRuntimeMap);
            return;
        }
        if (node is not CfnResource { CfnResourceType: "AWS::Lambda::Function" } resource) return;
        if (resource is CfnFunction function && !IsNode(function.Runtime is { } runtime ? Stack.Of(function).Resolve(runtime) : null)) return;
        // Otherwise an L1 function on Node, or a CustomResourceProvider's handler (a plain CfnResource; always Node.js).
        resource.AddPropertyOverride("Runtime", Runtime);
    }

    private static bool IsNode(object? runtime) => runtime switch
    {
        string name => name.StartsWith("nodejs", StringComparison.Ordinal),
        null => false,
        _ => JsonConvert.SerializeObject(runtime).Contains(LatestNodeRuntimeMap, StringComparison.Ordinal),
    };
}
