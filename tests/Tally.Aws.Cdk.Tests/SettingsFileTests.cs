using Amazon.CDK;

namespace Tally.Aws.Cdk.Tests;

/// <summary>How the app reads Tally's settings file (<c>tally:settings</c>), and how a bad one fails the synth.</summary>
public sealed class SettingsFileTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("tally-cdk-settings-");
    private readonly string _lambdaDir;

    public SettingsFileTests()
    {
        _lambdaDir = _dir.CreateSubdirectory("lambda").FullName;
        File.WriteAllText(Path.Combine(_lambdaDir, "placeholder.txt"), "The template tests do not publish the Lambda.");
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private string Write(string json)
    {
        var file = Path.Combine(_dir.FullName, $"settings-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        return file;
    }

    private App AppWith(string settingsFile) => new(new AppProps
    {
        Context = new Dictionary<string, object>
        {
            ["tally:settings"] = settingsFile,
            // So that a synth that wrongly succeeds does not publish the Lambda.
            ["tally:lambdaAssetDir"] = _lambdaDir,
        },
    });

    /// <summary>The seed's three tables, as the Glue job's --specs and the AggregateHour payload carry them.</summary>
    private const string SeedSpecs =
        """[{"table":"hits_by_country","groupBy":["CountryCode"],"format":"parquet"},{"table":"hits_by_domain_and_groupid","groupBy":["Domain","GroupID"],"format":"json"},{"table":"hits_by_useragent","groupBy":["UserAgent"],"format":"parquet"}]""";

    [Fact]
    public void WithoutASettingsFile_TheDeclarationIsTheSeeds()
    {
        var declaration = DeploymentSettings.FromContext(new App().Node).Declaration;

        Assert.Equal(CustomSettingsTests.GlueFixture("seed_source.json"), declaration.Source.ToJson());
        Assert.Equal(SeedSpecs, AggregationSpec.ToJson(declaration.Aggregations));
        Assert.Equal(("demo-raw-data", "demo-aggregated-data"), (declaration.RawDatabase, declaration.AggregatedDatabase));
    }

    [Fact]
    public void ASettingsFileWithOnlyACatalog_KeepsTheSeedsTables_UnderItsDatabaseNames()
    {
        var file = Write("""{ "Catalog": { "RawDatabase": "hits_raw" }, "Schedule": { "Cron": "*/5 * * * *" } }""");

        var declaration = DeploymentSettings.FromContext(AppWith(file).Node).Declaration;

        Assert.Equal(CustomSettingsTests.GlueFixture("seed_source.json"), declaration.Source.ToJson());
        Assert.Equal(SeedSpecs, AggregationSpec.ToJson(declaration.Aggregations));
        Assert.Equal(("hits_raw", "demo-aggregated-data"), (declaration.RawDatabase, declaration.AggregatedDatabase));
    }

    public static TheoryData<string, string> BadSettings => new()
    {
        { """{ "Source": { "Fields": [{ "Name": "bytes", "Type": "integer" }] } }""", "Source:Fields:0:Type 'integer'" },
        { """{ "Source": { "Fields": [{ "Name": "bytes", "Type": 5 }] } }""", "Source:Fields:0:Type has the wrong JSON type" },
        { """{ "Source": { "Fields": [{ "Name": "geo.country" }] } }""", "so declare Aggregations too" },
        { """{ "Source": { "Fields": [{ "Name": "Year", "Type": "int64" }] }, "Aggregations": [{ "Table": "t", "GroupBy": ["Year"] }] }""", "Source:Fields:0:Column 'year'" },
        { """{ "Aggregations": [{ "Table": "t", "GroupBy": ["Referrer"] }] }""", "Aggregations:0 (table 't') groups by 'Referrer'" },
        { """{ "Aggregations": [{ "Table": "t", "GroupBy": ["Domain"], "Metrics": [{ "Column": "s", "Function": "sum", "Field": "Language" }] }] }""", "Aggregations:0 (table 't'), metric 0 ('s'): sum over 'Language'" },
        { """{ "Aggregations": [{ "Table": "t", "GroupBy": ["Domain"], "Metrics": [{ "Column": "s", "Function": "avg" }] }] }""", "Aggregations:0:Metrics:0:Function 'avg'" },
        { """{ "Aggregations": [{ "Table": "t", "GroupBy": ["Domain"], "Format": "csv" }] }""", "Aggregations:0:Format 'csv'" },
        { """{ "Aggregations": { "Table": "t" } }""", "Aggregations has the wrong JSON type" },
        { """{ "Catalog": { "RawDatabase": "same", "AggregatedDatabase": "same" } }""", "Catalog:RawDatabase and Catalog:AggregatedDatabase are both 'same'" },
        { """{ "Source": { "Fields": [ """, "is not valid JSON (line 1)" },
        { """[]""", "it must be a JSON object" },
        // Valid for tally, but the Glue table's JSON SerDe reads keys in any case.
        { """{ "Source": { "Fields": [{ "Name": "Domain" }, { "Name": "domain", "Column": "domain2" }] }, "Aggregations": [{ "Table": "t", "GroupBy": ["Domain"] }] }""", "Source:Fields:1 ('domain')" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void ABadSettingsFile_FailsTheSynth_WithOneSentenceNamingTheKey(string json, string expected)
    {
        var app = AppWith(Write(json));

        var e = Assert.Throws<TallyException>(() => TallyApp.Build(app));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.EndsWith(".", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingSettingsFile_FailsTheSynth_NamingTheFileAndTheContextKey()
    {
        var e = Assert.Throws<TallyException>(() => TallyApp.Build(AppWith("no-such-settings.json")));

        Assert.Equal(TallyErrorKind.NotFound, e.Kind);
        Assert.Equal("The settings file 'no-such-settings.json' (tally:settings) does not exist.", e.Message);
    }

    [Fact]
    public void TheSeedsSourceSchema_IsWhatTheGlueTestsRead()
    {
        // The CDK app does not pass the seed's schema (the job's default), but the job must accept it when given.
        Assert.Equal(CustomSettingsTests.GlueFixture("seed_source.json"), SourceSchema.Seed.ToJson());
    }
}

/// <summary>The default app (no settings file) gives the Glue job the seed's declaration as before.</summary>
[Collection(SynthesizedAppCollection.Name)]
public class DefaultDeclarationTests(SynthesizedApp app)
{
    [Fact]
    public void Job_GetsNoSourceArgument_AndSpecsWithoutMetrics_WithoutASettingsFile()
    {
        var arguments = TemplateJson.Single(app.Etl, "AWS::Glue::Job").GetProperty("Properties").GetProperty("DefaultArguments");

        Assert.False(arguments.TryGetProperty("--source", out _));
        Assert.DoesNotContain("metrics", arguments.GetProperty("--specs").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RawTable_HasNoMappings_WithoutASettingsFile()
    {
        var raw = TemplateJson.Resources(app.Data, "AWS::Glue::Table")
            .Select(r => r.Resource.GetProperty("Properties").GetProperty("TableInput"))
            .Single(t => t.GetProperty("Name").GetString() == "raw_data");

        Assert.Equal(["case.insensitive", "ignore.malformed.json"],
            raw.GetProperty("StorageDescriptor").GetProperty("SerdeInfo").GetProperty("Parameters").EnumerateObject().Select(p => p.Name));
    }
}
