using System.Text.Json;

namespace Tally.Aws.Cdk.Tests;

/// <summary>Every log the deployment writes goes to a log group of its stack that keeps it a month and goes with the stack.</summary>
[Collection(SynthesizedAppCollection.Name)]
public class LogGroupTests(SynthesizedApp app)
{
    [Fact]
    public void EveryLogGroup_KeepsItsLogsAMonth_AndIsDeletedWithItsStack()
    {
        var groups = app.All.SelectMany(s => TemplateJson.Resources(s.Template, "AWS::Logs::LogGroup").Select(g => (Where: $"{s.Stack}/{g.Id}", g.Resource))).ToList();

        Assert.Equal(9, groups.Count);
        Assert.All(groups, g => Assert.True(g.Resource.GetProperty("Properties").TryGetProperty("RetentionInDays", out var days) && days.Int() == 30, $"{g.Where} keeps its logs forever"));
        Assert.All(groups, g => Assert.Equal("Delete", g.Resource.GetProperty("DeletionPolicy").GetString()));
    }

    /// <summary>
    /// A function logs to the group its LoggingConfig names, or else to Lambda's default group of its name
    /// (<c>/aws/lambda/&lt;name&gt;</c>), which Lambda creates without a retention unless the stack has it (CDK's
    /// AutoDeleteObjects provider, which 2.160 gives no log options).
    /// </summary>
    [Fact]
    public void EveryFunction_LogsToALogGroupOfItsStack()
    {
        foreach (var (stack, template) in app.All)
        {
            var groups = TemplateJson.Resources(template, "AWS::Logs::LogGroup").ToList();
            foreach (var (id, function) in TemplateJson.Resources(template, "AWS::Lambda::Function"))
            {
                var properties = function.GetProperty("Properties");
                var configured = properties.TryGetProperty("LoggingConfig", out var logging)
                    && groups.Any(g => g.Id == logging.GetProperty("LogGroup").GetProperty("Ref").GetString());
                var byName = groups.Any(g => g.Resource.GetProperty("Properties").TryGetProperty("LogGroupName", out var name)
                    && name.ValueKind == JsonValueKind.Object && name.TryGetProperty("Fn::Join", out var join)
                    && join[1][0].GetString() == "/aws/lambda/" && join[1][1].GetProperty("Ref").GetString() == id);
                Assert.True(configured || byName, $"{stack}/{id} logs to a log group that is not its stack's.");
            }
        }
    }

    [Fact]
    public void AutoDeleteObjectsLogs_OutliveTheEmptyingOfTheBucket()
    {
        var emptying = TemplateJson.Single(app.Data, "Custom::S3AutoDeleteObjects");
        var group = TemplateJson.Resources(app.Data, "AWS::Logs::LogGroup").Single(g => g.Id.StartsWith("AutoDeleteObjectsLogs", StringComparison.Ordinal));

        Assert.Contains(group.Id, emptying.GetProperty("DependsOn").EnumerateArray().Select(d => d.GetString()));
    }
}
