namespace Tally.Core.Tests;

/// <summary>The source schema as the Glue job's <c>--source</c> argument.</summary>
public class SourceSchemaJsonFacts
{
    private static SourceSchema Declared() => SourceSchema.Create(
        [
            new RawField("EventId", RawFieldType.String) { Column = "event_id" },
            new RawField("ts", RawFieldType.Timestamp),
            new RawField("bytes", RawFieldType.Int64),
            new RawField("latency", RawFieldType.Double),
            new RawField("cached", RawFieldType.Boolean),
            new RawField("geo.country", RawFieldType.String),
            new RawField("geo.city.Name", RawFieldType.String) { Column = "city" },
        ],
        "ts");

    [Fact]
    public void ToJson_WritesEveryFieldsNameColumnAndType_AndTheEventTimesName()
    {
        var json = SourceSchema.Create([new RawField("geo.country", RawFieldType.String), new RawField("At", RawFieldType.Timestamp) { Column = "at_utc" }], "at_utc").ToJson();

        Assert.Equal(
            """{"fields":[{"name":"geo.country","column":"geo_country","type":"string"},{"name":"At","column":"at_utc","type":"timestamp"}],"event_time":"At"}""",
            json);
    }

    [Fact]
    public void ToJson_LeavesOutTheEventTime_WhenThereIsNone()
    {
        Assert.Equal("""{"fields":[{"name":"n","column":"n","type":"int64"}]}""", SourceSchema.Create([new RawField("n", RawFieldType.Int64)], null).ToJson());
    }

    [Fact]
    public void Json_RoundTripsADeclaredSchema_WithNestedFieldsEveryTypeAndColumns()
    {
        var schema = Declared();

        var parsed = SourceSchema.ParseJson(schema.ToJson());

        Assert.Equal(schema.Fields, parsed.Fields);
        Assert.Equal(schema.EventTime, parsed.EventTime);
        Assert.Equal(["event_id", "ts", "bytes", "latency", "cached", "geo_country", "city"], parsed.Fields.Select(f => f.Column));
    }

    [Fact]
    public void Json_RoundTripsTheSeed_AsTheSeed()
    {
        var parsed = SourceSchema.ParseJson(SourceSchema.Seed.ToJson());

        Assert.True(parsed.IsSeed);
        Assert.Equal(RawSchema.Timestamp, parsed.EventTime);
    }

    [Fact]
    public void Json_RoundTripsASchemaWithoutEventTime()
    {
        var schema = SourceSchema.Create([new RawField("a.b", RawFieldType.Boolean)], null);

        Assert.Null(SourceSchema.ParseJson(schema.ToJson()).EventTime);
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("[]", "not valid JSON")]
    [InlineData("null", "\"fields\" array")]
    [InlineData("{}", "\"fields\" array")]
    [InlineData("""{"fields": []}""", "Source:Fields must declare at least one field")]
    [InlineData("""{"fields": [null]}""", "Source:Fields:0 is empty")]
    [InlineData("""{"fields": [{"name": "a", "column": "a", "type": "integer"}]}""", "Source:Fields:0:Type 'integer'")]
    [InlineData("""{"fields": [{"name": "a", "column": "A", "type": "string"}]}""", "Source:Fields:0:Column 'A'")]
    [InlineData("""{"fields": [{"name": "a", "column": "a", "type": "string"}], "event_time": "a"}""", "must be a timestamp")]
    [InlineData("""{"fields": [{"name": "a", "column": "a", "type": "string"}], "event_time": "b"}""", "Source:EventTime 'b' names no field")]
    public void ParseJson_ThrowsInvalidConfiguration_ForBadInput(string json, string expectedMessage)
    {
        var e = Assert.Throws<TallyException>(() => SourceSchema.ParseJson(json));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Contains(expectedMessage, e.Message, StringComparison.Ordinal);
    }
}
