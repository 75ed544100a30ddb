namespace Tally.Core.Tests;

public class AggregationSpecFacts
{
    private static string Describe(IEnumerable<TableColumn> columns) => string.Join(", ", columns.Select(c => $"{c.Name} {c.CatalogType}"));

    [Fact]
    public void Defaults_AreTheSeedsThreeTables()
    {
        Assert.Equal(["hits_by_country", "hits_by_domain_and_groupid", "hits_by_useragent"], AggregationSpec.Defaults.Select(s => s.Table));
    }

    // The table of DESIGN.md, "Data contracts".
    [Theory]
    [InlineData("hits_by_country", "CountryCode", "countrycode string, hitcount bigint", TableFormat.Parquet, "parquet")]
    [InlineData("hits_by_domain_and_groupid", "Domain,GroupID", "groupid bigint, domain string, hitcount bigint", TableFormat.Json, "json")]
    [InlineData("hits_by_useragent", "UserAgent", "useragent string, hitcount bigint", TableFormat.Parquet, "parquet")]
    public void Defaults_MatchTheDesignTable(string table, string groupBy, string columns, TableFormat format, string extension)
    {
        var spec = Assert.Single(AggregationSpec.Defaults, s => s.Table == table);

        Assert.Equal(groupBy.Split(','), spec.GroupBy);
        Assert.Equal(columns, Describe(spec.Columns()));
        Assert.Equal(format, spec.Format);
        Assert.Equal(extension, spec.FileExtension);
    }

    [Fact]
    public void Defaults_AreValid()
    {
        AggregationSpec.Validate(AggregationSpec.Defaults);
        new TallyOptions().Validate();
    }

    [Theory]
    // Columns follow the raw schema's order, whatever the group-by order, then hitcount.
    [InlineData("Domain,GroupID", "groupid bigint, domain string, hitcount bigint")]
    [InlineData("GroupID,Domain", "groupid bigint, domain string, hitcount bigint")]
    [InlineData("Timestamp,Language,CountryCode", "countrycode string, language string, timestamp string, hitcount bigint")]
    [InlineData("Domain,UserAgent,CountryCode,GroupID", "groupid bigint, countrycode string, useragent string, domain string, hitcount bigint")]
    // Field names are matched in any case and written lower-case.
    [InlineData("countrycode", "countrycode string, hitcount bigint")]
    [InlineData("GROUPID", "groupid bigint, hitcount bigint")]
    public void Columns_AreInRawSchemaOrderThenHitcount_WithCatalogTypes(string groupBy, string expected)
    {
        var spec = new AggregationSpec("t", groupBy.Split(','), TableFormat.Json);

        Assert.Equal(expected, Describe(spec.Columns()));
    }

    [Fact]
    public void GroupByFields_KeepTheGroupByOrder()
    {
        var spec = new AggregationSpec("t", ["Domain", "groupid"], TableFormat.Json);

        Assert.Equal([RawSchema.Domain, RawSchema.GroupId], spec.GroupByFields());
    }

    public static TheoryData<string, AggregationSpec[], string> InvalidSpecs => new()
    {
        { "no table", [], "At least one" },
        {
            "duplicate table",
            [new("hits", ["CountryCode"], TableFormat.Parquet), new("hits", ["Domain"], TableFormat.Json)],
            "'hits' is configured twice"
        },
        { "unknown field", [new("hits", ["Country"], TableFormat.Parquet)], "'Country', which is not a raw field" },
        { "empty group-by", [new("hits", [], TableFormat.Parquet)], "no group-by fields" },
        { "repeated field", [new("hits", ["Domain", "domain"], TableFormat.Parquet)], "same field twice" },
        { "empty name", [new("", ["Domain"], TableFormat.Parquet)], "not a valid table name" },
        { "upper-case name", [new("Hits", ["Domain"], TableFormat.Parquet)], "'Hits' is not a valid table name" },
        { "name with a dash", [new("hits-by-domain", ["Domain"], TableFormat.Parquet)], "not a valid table name" },
        { "name with a slash", [new("hits/../x", ["Domain"], TableFormat.Parquet)], "not a valid table name" },
        { "name starting with a digit", [new("1hits", ["Domain"], TableFormat.Parquet)], "not a valid table name" },
        { "name starting with an underscore", [new("_hits", ["Domain"], TableFormat.Parquet)], "not a valid table name" },
        { "name with a space", [new("hits by domain", ["Domain"], TableFormat.Parquet)], "not a valid table name" },
        { "name of 129 characters", [new("h" + new string('x', 128), ["Domain"], TableFormat.Parquet)], "not a valid table name" },
        { "unknown format", [new("hits", ["Domain"], (TableFormat)7)], "unknown format" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void Validate_ThrowsInvalidConfiguration_NamingTheProblem(string problem, AggregationSpec[] specs, string expectedMessage)
    {
        var e = Assert.Throws<TallyException>(() => AggregationSpec.Validate(specs));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.True(e.Message.Contains(expectedMessage, StringComparison.Ordinal), $"{problem}: {e.Message}");
    }

    [Theory]
    [InlineData("h")]
    [InlineData("hits_by_country")]
    [InlineData("h2_by_x_")]
    public void Validate_AcceptsLowerCaseNamesWithDigitsAndUnderscores(string table)
    {
        AggregationSpec.Validate([new(table, ["Domain"], TableFormat.Json)]);
        Assert.Equal(table, AggregationSpec.ParseJson(AggregationSpec.ToJson([new(table, ["Domain"], TableFormat.Json)]))[0].Table);
    }

    [Fact]
    public void Validate_Rejects_ANameEndingInANewline()
    {
        var e = Assert.Throws<TallyException>(() => AggregationSpec.Validate([new("hits_by_country\n", ["CountryCode"], TableFormat.Parquet)]));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
    }

    [Fact]
    public void Json_RoundTripsTheDefaults()
    {
        var parsed = AggregationSpec.ParseJson(AggregationSpec.ToJson(AggregationSpec.Defaults));

        Assert.Equal(AggregationSpec.Defaults, parsed);
    }

    [Fact]
    public void ToJson_WritesTheGlueJobsShape()
    {
        var json = AggregationSpec.ToJson([new("hits_by_domain_and_groupid", ["Domain", "GroupID"], TableFormat.Json), new("c", ["CountryCode"], TableFormat.Parquet)]);

        Assert.Equal(
            """[{"table":"hits_by_domain_and_groupid","groupBy":["Domain","GroupID"],"format":"json"},{"table":"c","groupBy":["CountryCode"],"format":"parquet"}]""",
            json);
    }

    [Fact]
    public void ParseJson_ReadsHandWrittenSettings_WithCommentsTrailingCommasAndAnyFormatCase()
    {
        const string json = """
            [
              // by country
              { "table": "by_country", "groupBy": ["CountryCode"], "format": "PARQUET" },
              { "format": "Json", "groupBy": ["Language", "Domain",], "table": "by_language_and_domain" },
            ]
            """;

        var specs = AggregationSpec.ParseJson(json);

        Assert.Equal(
            [new AggregationSpec("by_country", ["CountryCode"], TableFormat.Parquet), new AggregationSpec("by_language_and_domain", ["Language", "Domain"], TableFormat.Json)],
            specs);
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("not json", "not valid JSON")]
    [InlineData("{\"table\": \"t\", \"groupBy\": [\"Domain\"], \"format\": \"json\"}", "not valid JSON")]
    [InlineData("[{\"table\": 1, \"groupBy\": [\"Domain\"], \"format\": \"json\"}]", "not valid JSON")]
    [InlineData("[{\"table\": \"t\", \"groupBy\": \"Domain\", \"format\": \"json\"}]", "not valid JSON")]
    [InlineData("null", "must be a JSON array")]
    [InlineData("[]", "At least one")]
    [InlineData("[{\"table\": \"t\", \"groupBy\": [\"Domain\"], \"format\": \"csv\"}]", "format 'csv'")]
    [InlineData("[{\"table\": \"t\", \"groupBy\": [\"Domain\"]}]", "use parquet or json")]
    [InlineData("[{\"groupBy\": [\"Domain\"], \"format\": \"json\"}]", "not a valid table name")]
    [InlineData("[{\"table\": \"t\", \"format\": \"json\"}]", "no group-by fields")]
    [InlineData("[{\"table\": \"t\", \"groupBy\": [\"Referrer\"], \"format\": \"json\"}]", "'Referrer', which is not a raw field")]
    [InlineData("[{\"table\": \"t\", \"groupBy\": [\"Domain\"], \"format\": \"json\"}, {\"table\": \"t\", \"groupBy\": [\"Domain\"], \"format\": \"json\"}]", "configured twice")]
    public void ParseJson_ThrowsInvalidConfiguration_ForBadInput(string json, string expectedMessage)
    {
        var e = Assert.Throws<TallyException>(() => AggregationSpec.ParseJson(json));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Contains(expectedMessage, e.Message);
    }

    [Fact]
    public void ParseJson_ThrowsInvalidConfiguration_ForANullElement()
    {
        var e = Assert.Throws<TallyException>(() => AggregationSpec.ParseJson("[null]"));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
    }

    [Fact]
    public void Equality_ComparesTheGroupByListByValue()
    {
        var a = new AggregationSpec("t", ["Domain", "GroupID"], TableFormat.Json);

        Assert.Equal(a, new AggregationSpec("t", new List<string> { "Domain", "GroupID" }, TableFormat.Json));
        Assert.Equal(a.GetHashCode(), new AggregationSpec("t", new List<string> { "Domain", "GroupID" }, TableFormat.Json).GetHashCode());
        Assert.NotEqual(a, new AggregationSpec("t", ["GroupID", "Domain"], TableFormat.Json));
        Assert.NotEqual(a, new AggregationSpec("t", ["Domain", "GroupID"], TableFormat.Parquet));
        Assert.NotEqual(a, new AggregationSpec("u", ["Domain", "GroupID"], TableFormat.Json));
    }
}
