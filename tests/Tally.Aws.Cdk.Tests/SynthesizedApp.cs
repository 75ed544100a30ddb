using Amazon.CDK;
using Amazon.CDK.Assertions;
using System.Text.Json;
using Newtonsoft.Json;

// jsii's bridge to Node is not safe for concurrent calls: CDK tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Tally.Aws.Cdk.Tests;

/// <summary>
/// The app synthesized once for all template tests (jsii's Node process is the slow part).
/// The Lambda publish is skipped through <c>tally:lambdaAssetDir</c>; <c>.ci/aws-checks.sh</c> synthesizes with the real one.
/// </summary>
public sealed class SynthesizedApp : IDisposable
{
    public const int GlueWorkers = 3;
    public const string AlertEmail = "alerts@example.com";

    private readonly DirectoryInfo _lambdaDir;

    public SynthesizedApp()
    {
        _lambdaDir = Directory.CreateTempSubdirectory("tally-lambda-");
        File.WriteAllText(Path.Combine(_lambdaDir.FullName, "placeholder.txt"), "The template tests do not publish the Lambda.");
        var app = new App(new AppProps
        {
            Context = new Dictionary<string, object>
            {
                ["tally:lambdaAssetDir"] = _lambdaDir.FullName,
                ["tally:glueWorkers"] = GlueWorkers.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["tally:alertEmail"] = AlertEmail,
            },
        });
        Stacks = TallyApp.Build(app);
        Data = Template.FromStack(Stacks.Data);
        Etl = Template.FromStack(Stacks.Etl);
        Orchestration = Template.FromStack(Stacks.Orchestration);
    }

    internal TallyApp Stacks { get; }
    public Template Data { get; }
    public Template Etl { get; }
    public Template Orchestration { get; }

    public IEnumerable<(string Stack, Template Template)> All =>
        [("TallyData", Data), ("TallyEtl", Etl), ("TallyOrchestration", Orchestration)];

    public void Dispose() => _lambdaDir.Delete(recursive: true);
}

[CollectionDefinition(Name)]
public sealed class SynthesizedAppCollection : ICollectionFixture<SynthesizedApp>
{
    public const string Name = "synthesized app";
}

/// <summary>Reads a synthesized template as JSON.</summary>
internal static class TemplateJson
{
    public static JsonElement Of(Template template) =>
        JsonDocument.Parse(JsonConvert.SerializeObject(template.ToJSON())).RootElement.Clone();

    /// <summary>The resources of a type, with their logical ids.</summary>
    public static IReadOnlyList<(string Id, JsonElement Resource)> Resources(Template template, string type) =>
        Of(template).GetProperty("Resources").EnumerateObject()
            .Where(r => r.Value.GetProperty("Type").GetString() == type)
            .Select(r => (r.Name, r.Value))
            .ToList();

    /// <summary>The one resource of a type.</summary>
    public static JsonElement Single(Template template, string type) => Assert.Single(Resources(template, type)).Resource;

    /// <summary>
    /// A string value with <c>Fn::Join</c> resolved and any other intrinsic (Ref, GetAtt, ImportValue) written as <c>${TOKEN}</c>,
    /// so a state machine definition parses as JSON.
    /// </summary>
    public static string Flatten(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Object when value.TryGetProperty("Fn::Join", out var join) =>
            string.Join(join[0].GetString(), join[1].EnumerateArray().Select(Flatten)),
        JsonValueKind.Object when value.TryGetProperty("Fn::Sub", out var sub) && sub.ValueKind == JsonValueKind.String => sub.GetString()!,
        _ => "${TOKEN}",
    };

    /// <summary>A whole number; jsii hands numbers over as doubles (<c>1.0</c>).</summary>
    public static int Int(this JsonElement value) => checked((int)value.GetDouble());

    /// <summary>The root of the repository (the folder with cdk.json).</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "cdk.json"))) return dir.FullName;
        }
        throw new InvalidOperationException("cdk.json not found above the test binaries.");
    }
}
