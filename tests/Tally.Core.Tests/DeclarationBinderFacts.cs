using Tally.Configuration;

namespace Tally.Core.Tests;

/// <summary>The settings sections Source and Aggregations turned into the schema and specs (for <c>tally</c> and the CDK app alike).</summary>
public class DeclarationBinderFacts
{
    [Fact]
    public void Schema_IsTheSeeds_WhenNoFieldsAreDeclared()
    {
        Assert.Same(SourceSchema.Seed, DeclarationBinder.Schema(null));
        Assert.Same(SourceSchema.Seed, DeclarationBinder.Schema(new SourceSettings { Fields = [] }));
    }

    [Fact]
    public void Schema_ReadsTypeWordsInAnyCase_DefaultsToString_AndKeepsDeclaredColumns()
    {
        var schema = DeclarationBinder.Schema(new SourceSettings
        {
            Fields =
            [
                new FieldSettings { Name = "geo.country" },
                new FieldSettings { Name = "Bytes", Type = "INT64" },
                new FieldSettings { Name = "ts", Column = "event_time", Type = "timestamp" },
            ],
            EventTime = "event_time",
        });

        Assert.Equal(
            [new RawField("geo.country", RawFieldType.String), new RawField("Bytes", RawFieldType.Int64), new RawField("ts", RawFieldType.Timestamp) { Column = "event_time" }],
            schema.Fields);
        Assert.Equal("ts", schema.EventTime?.Name);
    }

    [Theory]
    [InlineData("integer", "Source:Fields:0:Type 'integer' of 'a' is not a known type; use boolean, double, int64, string, timestamp.")]
    [InlineData("int64", null)]
    public void Schema_NamesTheKeyOfAnUnknownType(string type, string? expected)
    {
        var settings = new SourceSettings { Fields = [new FieldSettings { Name = "a", Type = type }] };

        if (expected is null)
        {
            Assert.Equal(RawFieldType.Int64, DeclarationBinder.Schema(settings).Fields[0].Type);
            return;
        }
        Assert.Equal(expected, Assert.Throws<TallyException>(() => DeclarationBinder.Schema(settings)).Message);
    }

    [Fact]
    public void Schema_RefusesAnEventTime_WithoutFields()
    {
        var e = Assert.Throws<TallyException>(() => DeclarationBinder.Schema(new SourceSettings { EventTime = "ts" }));

        Assert.Equal("Source:EventTime is set but Source:Fields declares no field.", e.Message);
    }

    [Fact]
    public void Aggregations_AreTheSeedsThree_WhenNoneAreDeclaredForTheSeedsSchema()
    {
        Assert.Same(AggregationSpec.Defaults, DeclarationBinder.Aggregations(null, SourceSchema.Seed));
    }

    [Fact]
    public void Aggregations_MustBeDeclared_ForADeclaredSchema()
    {
        var schema = SourceSchema.Create([new RawField("a", RawFieldType.String)], null);

        var e = Assert.Throws<TallyException>(() => DeclarationBinder.Aggregations(null, schema));

        Assert.StartsWith("Source:Fields declares your own fields, so declare Aggregations too", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Aggregations_ReadFormatAndFunctionWords_AndDefaultToParquetAndHitcount()
    {
        var specs = DeclarationBinder.Aggregations(
            [
                new AggregationSettings { Table = "a", GroupBy = ["Domain"] },
                new AggregationSettings
                {
                    Table = "b", GroupBy = ["GroupID"], Format = "JSON",
                    Metrics = [new MetricSettings { Column = "n", Function = "Count_Distinct", Field = "Language" }],
                },
            ],
            SourceSchema.Seed);

        Assert.Equal(
            [
                new AggregationSpec("a", ["Domain"], TableFormat.Parquet),
                new AggregationSpec("b", ["GroupID"], TableFormat.Json) { Metrics = [new MetricSpec("n", MetricFunction.CountDistinct, "Language")] },
            ],
            specs);
    }

    [Theory]
    [InlineData("csv", null, "Aggregations:0:Format 'csv' of table 't' is not a format; use parquet or json.")]
    [InlineData(null, "avg", "Aggregations:0:Metrics:0:Function 'avg' of table 't' is not a function; use count, sum, min, max, count_distinct.")]
    public void Aggregations_NameTheKeyOfAnUnknownWord(string? format, string? function, string expected)
    {
        var settings = new AggregationSettings
        {
            Table = "t", GroupBy = ["Domain"], Format = format,
            Metrics = function is null ? null : [new MetricSettings { Column = "m", Function = function }],
        };

        Assert.Equal(expected, Assert.Throws<TallyException>(() => DeclarationBinder.Aggregations([settings], SourceSchema.Seed)).Message);
    }
}
