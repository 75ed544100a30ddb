using System.Text.Json;

namespace Tally.Aws.Cdk.Tests;

/// <summary>
/// Every Lambda function of every stack, CDK's own helpers included, runs on a runtime Lambda has not deprecated: from a
/// runtime's deprecation date Lambda stops creating functions on it, and a stack that creates one rolls back (CDK 2.160 put
/// its helpers on nodejs20.x, deprecated on 2026-04-30). The dates are Lambda's runtime table's; a runtime not in it fails
/// the test until it is added with its date.
/// </summary>
[Collection(SynthesizedAppCollection.Name)]
public class RuntimeTests(SynthesizedApp app)
{
    /// <summary>
    /// Deprecation dates of Lambda's managed runtimes, from Lambda's runtime table ("Supported runtimes" and "Deprecated
    /// runtimes", checked 2026-12-01), for the families this app and CDK's helpers use.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, DateOnly> Deprecation = new Dictionary<string, DateOnly>
    {
        ["nodejs24.x"] = new(2028, 4, 30),
        ["nodejs22.x"] = new(2027, 4, 30),
        ["nodejs20.x"] = new(2026, 4, 30),
        ["nodejs18.x"] = new(2025, 9, 1),
        ["nodejs16.x"] = new(2024, 6, 12),
        ["nodejs14.x"] = new(2023, 12, 4),
        ["nodejs12.x"] = new(2023, 3, 31),
        ["python3.13"] = new(2029, 6, 30),
        ["python3.12"] = new(2028, 10, 31),
        ["python3.11"] = new(2027, 6, 30),
        ["python3.10"] = new(2026, 6, 30),
        ["python3.9"] = new(2025, 12, 15),
        ["python3.8"] = new(2024, 10, 14),
        ["python3.7"] = new(2023, 12, 4),
        ["dotnet10"] = new(2028, 11, 14),
        ["dotnet8"] = new(2026, 11, 10),
        ["dotnet6"] = new(2024, 12, 20),
        ["dotnet7"] = new(2024, 5, 14),
        ["ruby3.4"] = new(2028, 3, 31),
        ["ruby3.3"] = new(2027, 3, 31),
        ["ruby3.2"] = new(2026, 3, 31),
        ["provided.al2023"] = new(2029, 6, 30),
        ["go1.x"] = new(2024, 1, 8),
        ["provided"] = new(2024, 1, 8),
    };

    /// <summary>Why <paramref name="runtime"/> cannot be deployed on <paramref name="day"/>, or null when it can.</summary>
    internal static string? Problem(JsonElement runtime, DateOnly day)
    {
        if (runtime.ValueKind != JsonValueKind.String) return $"its runtime is not a literal ({runtime.GetRawText()}), so no test can tell which it is";
        var name = runtime.GetString()!;
        if (!Deprecation.TryGetValue(name, out var deprecated)) return $"{name} is not in the table of Lambda runtimes; add it with its deprecation date";
        return deprecated <= day ? $"{name} was deprecated on {deprecated:yyyy-MM-dd}" : null;
    }

    private static DateOnly Today => DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);

    private IEnumerable<(string Where, JsonElement Runtime)> Runtimes() =>
        app.All.SelectMany(stack => TemplateJson.Resources(stack.Template, "AWS::Lambda::Function")
            .Select(f => ($"{stack.Stack}/{f.Id}", f.Resource.GetProperty("Properties").GetProperty("Runtime"))));

    [Fact]
    public void EveryFunction_RunsOnARuntimeLambdaHasNotDeprecated()
    {
        var problems = Runtimes().Select(r => (r.Where, Problem: Problem(r.Runtime, Today))).Where(r => r.Problem is not null)
            .Select(r => $"{r.Where}: {r.Problem}").ToList();

        Assert.Empty(problems);
        Assert.Equal(6, Runtimes().Count());
    }

    [Fact]
    public void TheFunctions_AreTheTwoDotnetOnes_CdksPythonBucketDeployment_AndThreeNodeHelpersOnNodejs22()
    {
        var runtimes = Runtimes().Select(r => r.Runtime.GetString()).Order(StringComparer.Ordinal);

        Assert.Equal(["dotnet10", "dotnet10", "nodejs22.x", "nodejs22.x", "nodejs22.x", "python3.11"], runtimes);
    }

    [Fact]
    public void NoTemplate_NamesNodejs20_OrCdksRegionMapOfItsNodeRuntime()
    {
        foreach (var (stack, template) in app.All)
        {
            var json = TemplateJson.Of(template).GetRawText();
            Assert.DoesNotContain("nodejs20.x", json, StringComparison.Ordinal);
            Assert.DoesNotContain("LatestNodeRuntimeMap", json, StringComparison.Ordinal);
            Assert.False(TemplateJson.Of(template).TryGetProperty("Mappings", out _), $"{stack} has Mappings");
        }
    }

    [Theory]
    [InlineData("nodejs20.x", "nodejs20.x was deprecated on 2026-04-30")]
    [InlineData("dotnet8", "dotnet8 was deprecated on 2026-11-10")]
    [InlineData("python3.9", "python3.9 was deprecated on 2025-12-15")]
    [InlineData("java7", "java7 is not in the table of Lambda runtimes; add it with its deprecation date")]
    [InlineData("nodejs22.x", null)]
    [InlineData("dotnet10", null)]
    public void TheCheck_RefusesRuntimesDeprecatedByThen_AndUnknownOnes(string runtime, string? expected)
    {
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(runtime));

        Assert.Equal(expected, Problem(doc.RootElement, new DateOnly(2026, 12, 1)));
    }

    [Fact]
    public void TheCheck_RefusesARuntimeThatIsNotALiteral_AsCdk2160sRegionMapIs()
    {
        using var doc = JsonDocument.Parse("""{"Fn::FindInMap": ["LatestNodeRuntimeMap", {"Ref": "AWS::Region"}, "value"]}""");

        Assert.StartsWith("its runtime is not a literal", Problem(doc.RootElement, new DateOnly(2026, 12, 1)), StringComparison.Ordinal);
    }

    [Fact]
    public void TheDotnetFunctions_OutliveTheHelpers_AndTheHelpersRuntimeIsStillSupported()
    {
        Assert.Equal(new DateOnly(2028, 11, 14), Deprecation["dotnet10"]);
        Assert.True(Deprecation[NodeHelperRuntime.Runtime] > Today, $"{NodeHelperRuntime.Runtime} is deprecated: move NodeHelperRuntime to a newer Node.js runtime.");
    }
}
