using System.Text.Json;

namespace Tally.Aws.Cdk.Tests;

/// <summary>
/// The cdk-nag findings the app accepts, each with its reason, in the templates' metadata. Which findings there are is
/// cdk-nag's to say: .ci/aws-checks.sh runs its AwsSolutions rules over the synthesized templates and fails on any finding
/// not acknowledged here and on any acknowledgement that covers none. This test pins the list, so that a new one is a
/// visible change.
/// </summary>
[Collection(SynthesizedAppCollection.Name)]
public class NagAcknowledgementTests(SynthesizedApp app)
{
    private IReadOnlyList<(string Resource, string Rule, string Reason)> Acknowledgements() =>
        [.. app.All.SelectMany(s => TemplateJson.Of(s.Template).GetProperty("Resources").EnumerateObject()
            .Where(r => r.Value.TryGetProperty("Metadata", out var m) && m.TryGetProperty("cdk_nag", out _))
            .SelectMany(r => r.Value.GetProperty("Metadata").GetProperty("cdk_nag").GetProperty("rules_to_suppress").EnumerateArray()
                .Select(a => ($"{s.Stack}/{r.Name}", a.GetProperty("id").GetString()!, a.GetProperty("reason").GetString()!))))];

    [Fact]
    public void EveryAcknowledgement_NamesAnAwsSolutionsRule_AndGivesAReason()
    {
        Assert.All(Acknowledgements(), a =>
        {
            Assert.Matches("^AwsSolutions-[A-Z]+[0-9]+$", a.Rule);
            Assert.True(a.Reason.Length >= 60, $"{a.Resource} {a.Rule}: '{a.Reason}' is too short to be a reason.");
        });
    }

    [Fact]
    public void TheAcknowledgedFindings_AreThese()
    {
        static string Prefix(string resource) => System.Text.RegularExpressions.Regex.Replace(resource, "[0-9A-F]{8}$", "");

        Assert.Equal(
            [
                "TallyData/Bucket AwsSolutions-S1",
                "TallyData/CustomCDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C AwsSolutions-L1",
                "TallyData/CustomCDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756CServiceRole AwsSolutions-IAM4",
                "TallyData/CustomCDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756CServiceRoleDefaultPolicy AwsSolutions-IAM5",
                "TallyData/CustomS3AutoDeleteObjectsCustomResourceProviderHandler AwsSolutions-L1",
                "TallyData/CustomS3AutoDeleteObjectsCustomResourceProviderRole AwsSolutions-IAM4",
                "TallyEtl/AggregateHits AwsSolutions-GL1",
                "TallyEtl/AggregateHits AwsSolutions-GL3",
                "TallyEtl/AggregateHourRoleDefaultPolicy AwsSolutions-IAM5",
                "TallyEtl/JobRoleDefaultPolicy AwsSolutions-IAM5",
                "TallyOrchestration/DemoRunFunction AwsSolutions-L1",
                "TallyOrchestration/DemoRunProviderframeworkonEvent AwsSolutions-L1",
                "TallyOrchestration/DemoRunProviderframeworkonEventServiceRole AwsSolutions-IAM4",
                "TallyOrchestration/DemoRunProviderframeworkonEventServiceRoleDefaultPolicy AwsSolutions-IAM5",
                "TallyOrchestration/PipelineRoleDefaultPolicy AwsSolutions-IAM5",
                "TallyOrchestration/ScheduleDeadLetters AwsSolutions-SQS3",
            ],
            Acknowledgements().Select(a => $"{Prefix(a.Resource)} {a.Rule}").Order(StringComparer.Ordinal));
    }
}
