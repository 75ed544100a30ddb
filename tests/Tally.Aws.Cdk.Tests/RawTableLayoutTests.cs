namespace Tally.Aws.Cdk.Tests;

/// <summary>How declared fields become the raw table's columns and the OpenX JSON SerDe's mappings.</summary>
public class RawTableLayoutTests
{
    private static readonly string[] PartitionKeys = ["year", "month", "day", "hour", "minute"];

    private static RawTableLayout Layout(params RawField[] fields) => RawTableLayout.For(SourceSchema.Create(fields, null), PartitionKeys);

    private static List<string> Columns(RawTableLayout layout) => [.. layout.Columns.Select(c => $"{c.Name} {c.CatalogType}")];

    [Fact]
    public void TheSeedsSchema_IsSixFlatColumns_WithoutMappings()
    {
        var layout = RawTableLayout.For(SourceSchema.Seed, PartitionKeys);

        Assert.Equal(["groupid bigint", "countrycode string", "useragent string", "language string", "domain string", "timestamp string"], Columns(layout));
        Assert.Empty(layout.Mappings);
        Assert.True(layout.IsFlat);
    }

    [Fact]
    public void NestedFields_ShareTheStructOfTheirTopLevelKey_WhereTheFirstIsDeclared()
    {
        var layout = Layout(
            new RawField("geo.city", RawFieldType.String),
            new RawField("bytes", RawFieldType.Int64),
            new RawField("geo.point.lat", RawFieldType.Double),
            new RawField("geo.point.lon", RawFieldType.Double) { Column = "longitude" });

        Assert.Equal(["geo struct<city:string,point:struct<lat:double,lon:double>>", "bytes bigint"], Columns(layout));
        Assert.Empty(layout.Mappings);
        Assert.False(layout.IsFlat);
        Assert.Equal(["\"geo\".\"city\" AS \"geo_city\"", "\"bytes\"", "\"geo\".\"point\".\"lat\" AS \"geo_point_lat\"", "\"geo\".\"point\".\"lon\" AS \"longitude\""],
            layout.Projection);
    }

    [Fact]
    public void AKeyThatIsNotAName_BecomesOneWithUnderscores_AndAMappingToTheLowerCaseKey()
    {
        var layout = Layout(new RawField("HTTP.User-Agent", RawFieldType.String) { Column = "agent" }, new RawField("HTTP.2xx", RawFieldType.Boolean));

        Assert.Equal(["http struct<user_agent:string,_2xx:boolean>"], Columns(layout));
        Assert.Equal(new Dictionary<string, string> { ["user_agent"] = "user-agent", ["_2xx"] = "2xx" }, layout.Mappings);
    }

    public static TheoryData<RawField[], string> Refused => new()
    {
        { [new("Domain", RawFieldType.String), new("domain", RawFieldType.String) { Column = "domain2" }], "Source:Fields:1 ('domain') and 'Domain' differ only in the case of 'domain'" },
        { [new("geo.a", RawFieldType.String), new("Geo.b", RawFieldType.String)], "Source:Fields:1 ('Geo.b') and 'geo.a' differ only in the case of 'Geo'" },
        { [new("land", RawFieldType.String) { Column = "country" }, new("geo.country", RawFieldType.String)], "Source:Fields:1 ('geo.country') needs the name 'country' for the JSON key 'country' but 'land' uses it for 'land'" },
        { [new("hour.of_day", RawFieldType.Int64) { Column = "of_day" }], "Source:Fields:0 ('hour.of_day') needs a struct column 'hour'" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void FieldsTheSerDeCannotTellApart_AreRefused_NamingTheField(RawField[] fields, string expected)
    {
        var e = Assert.Throws<TallyException>(() => Layout(fields));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
