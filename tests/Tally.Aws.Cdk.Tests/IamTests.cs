using System.Text.Json;

namespace Tally.Aws.Cdk.Tests;

/// <summary>Least privilege across every stack: no wildcard actions, and wildcard resources only where AWS has nothing narrower.</summary>
[Collection(SynthesizedAppCollection.Name)]
public class IamTests(SynthesizedApp app)
{
    /// <summary>
    /// Actions allowed on <c>"*"</c>, each because AWS offers no resource-level permission for it.
    /// </summary>
    private static readonly HashSet<string> WildcardResourceActions =
    [
        // Step Functions' execution logging to CloudWatch Logs goes through vended log delivery; these APIs accept
        // only "*" as resource (CDK adds them for StateMachine.Logs).
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
        // X-Ray tracing of the state machine (CDK adds them for TracingEnabled): X-Ray has no resource-level permissions.
        "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    ];

    private static readonly string[] PolicyTypes =
        ["AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"];

    /// <summary>Every statement of every policy document (identity, inline, trust and resource policies) in the app.</summary>
    private IReadOnlyList<(string Where, JsonElement Statement)> Statements() =>
        [.. app.All.SelectMany(stack => PolicyTypes.SelectMany(type => TemplateJson.Resources(stack.Template, type)
            .SelectMany(r => Documents(r.Resource.GetProperty("Properties"))
                .SelectMany(d => StatementsOf(d).Select(s => ($"{stack.Stack}/{r.Id}", s))))))];

    internal static IEnumerable<JsonElement> Documents(JsonElement properties)
    {
        if (properties.TryGetProperty("PolicyDocument", out var document)) yield return document;
        if (properties.TryGetProperty("AssumeRolePolicyDocument", out var trust)) yield return trust;
        if (properties.TryGetProperty("Policies", out var inline))
        {
            foreach (var policy in inline.EnumerateArray()) yield return policy.GetProperty("PolicyDocument");
        }
    }

    private static IEnumerable<JsonElement> StatementsOf(JsonElement document)
    {
        var statement = document.GetProperty("Statement");
        return statement.ValueKind == JsonValueKind.Array ? statement.EnumerateArray() : [statement];
    }

    /// <summary>The allowed actions of a statement that are <c>*</c> or all of a service (<c>s3:*</c>), or that use NotAction.</summary>
    internal static IEnumerable<string> WildcardActions(JsonElement statement)
    {
        if (statement.GetProperty("Effect").GetString() != "Allow") yield break;
        if (statement.TryGetProperty("NotAction", out _)) yield return "NotAction";
        if (!statement.TryGetProperty("Action", out var action)) yield break;
        var actions = action.ValueKind == JsonValueKind.Array ? action.EnumerateArray().Select(a => a.GetString()!) : [action.GetString()!];
        foreach (var a in actions.Where(a => a == "*" || a.EndsWith(":*", StringComparison.Ordinal))) yield return a;
    }

    [Fact]
    public void NoPolicyAllows_EveryAction_OrEveryActionOfAService()
    {
        var offenders = Statements().SelectMany(s => WildcardActions(s.Statement).Select(a => $"{s.Where}: {a}")).ToList();

        Assert.Empty(offenders);
    }

    [Fact]
    public void WildcardActionCheck_FindsStarAndServiceWideActions()
    {
        using var doc = JsonDocument.Parse("""
            [{"Effect": "Allow", "Action": "*", "Resource": "x"},
             {"Effect": "Allow", "Action": ["s3:GetObject", "glue:*"], "Resource": "x"},
             {"Effect": "Allow", "NotAction": "iam:PassRole", "Resource": "x"},
             {"Effect": "Allow", "Action": ["s3:GetObject*", "s3:List*"], "Resource": "x"},
             {"Effect": "Deny", "Action": "s3:*", "Resource": "x"}]
            """);

        var found = doc.RootElement.EnumerateArray().Select(s => WildcardActions(s).ToList()).ToList();

        Assert.Equal([["*"], ["glue:*"], ["NotAction"], [], []], found);
    }

    [Fact]
    public void WildcardResources_AreOnlyForActionsAwsCannotScope()
    {
        var onStar = Statements()
            .Where(s => s.Statement.GetProperty("Effect").GetString() == "Allow" && EtlStackTests.Resources(s.Statement).Contains("*"))
            .SelectMany(s => EtlStackTests.Actions(s.Statement).Select(a => (s.Where, Action: a)))
            .ToList();

        Assert.All(onStar, x => Assert.True(WildcardResourceActions.Contains(x.Action), $"{x.Where} allows {x.Action} on \"*\"."));
        Assert.All(onStar, x => Assert.StartsWith("TallyOrchestration/PipelineRole", x.Where, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryAllowStatement_NamesItsResources()
    {
        var identityStatements = Statements().Where(s => s.Statement.GetProperty("Effect").GetString() == "Allow"
            && !s.Statement.TryGetProperty("Principal", out _));

        Assert.All(identityStatements, s => Assert.True(s.Statement.TryGetProperty("Resource", out _), $"{s.Where} has no Resource."));
    }

    [Fact]
    public void DemoRunPolicy_MayOnlyStartThisStateMachine_AndReadTheDemoExecution()
    {
        var statements = Statements().Where(s => s.Where.StartsWith("TallyOrchestration/DemoRunRole", StringComparison.Ordinal)
            && s.Statement.GetProperty("Effect").GetString() == "Allow" && !s.Statement.TryGetProperty("Principal", out _)).Select(s => s.Statement).ToList();
        var start = Assert.Single(statements, s => EtlStackTests.Actions(s).Contains("states:StartExecution"));
        var describe = Assert.Single(statements, s => EtlStackTests.Actions(s).Contains("states:DescribeExecution"));

        Assert.Equal(["logs:CreateLogStream", "logs:PutLogEvents", "states:DescribeExecution", "states:StartExecution"],
            statements.SelectMany(EtlStackTests.Actions).Order(StringComparer.Ordinal));
        Assert.StartsWith("Pipeline", start.GetProperty("Resource").GetProperty("Ref").GetString());
        Assert.Matches(":execution:\\$\\{TOKEN\\}:demo-hour-2026-11-24T13$", EtlStackTests.Resources(describe).Single());
    }
}
