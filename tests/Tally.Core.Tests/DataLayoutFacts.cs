namespace Tally.Core.Tests;

public class DataLayoutFacts
{
    private static readonly AggregationSpec ByCountry = new("hits_by_country", ["CountryCode"], TableFormat.Parquet);
    private static readonly AggregationSpec ByDomain = new("hits_by_domain_and_groupid", ["Domain", "GroupID"], TableFormat.Json);

    [Theory]
    [InlineData(2026, 11, 24, 13, "year=2026/month=11/day=24/hour=13")]
    [InlineData(2026, 1, 5, 7, "year=2026/month=01/day=05/hour=07")]
    [InlineData(2026, 1, 1, 0, "year=2026/month=01/day=01/hour=00")]
    [InlineData(987, 12, 31, 23, "year=0987/month=12/day=31/hour=23")]
    public void HourPartition_IsZeroPadded(int year, int month, int day, int hour, string expected)
    {
        Assert.Equal(expected, DataLayout.HourPartition(HourWindow.FromParts(year, month, day, hour)));
    }

    [Fact]
    public void HourPartitionValues_AreZeroPaddedStringsOutermostFirst()
    {
        Assert.Equal(["2026", "01", "05", "07"], DataLayout.HourPartitionValues(HourWindow.FromParts(2026, 1, 5, 7)));
    }

    [Fact]
    public void RawPrefixes_AreUnderRawData()
    {
        var hour = HourWindow.FromParts(2026, 1, 5, 7);

        Assert.Equal("raw_data/year=2026/month=01/day=05/hour=07", DataLayout.RawHourPrefix(hour));
        Assert.Equal("raw_data/year=2026/month=01/day=05/hour=07/minute=03", DataLayout.RawMinutePrefix(hour, 3));
        Assert.Equal("raw_data/year=2026/month=01/day=05/hour=07/minute=59", DataLayout.RawMinutePrefix(hour, 59));
    }

    [Fact]
    public void TableFile_IsThePartFileOfTheTablePartition_WithTheFormatsExtension()
    {
        var hour = HourWindow.FromParts(2026, 1, 5, 7);

        Assert.Equal("aggregated_data/hits_by_country/year=2026/month=01/day=05/hour=07/part-00000.parquet", DataLayout.TableFile(ByCountry, hour));
        Assert.Equal("aggregated_data/hits_by_domain_and_groupid/year=2026/month=01/day=05/hour=07/part-00000.json", DataLayout.TableFile(ByDomain, hour));
        Assert.Equal("aggregated_data/hits_by_country/year=2026/month=01/day=05/hour=07", DataLayout.TablePartitionPrefix("hits_by_country", hour));
    }

    [Fact]
    public void QuarantineFile_IsOneJsonLinesFilePerHour()
    {
        Assert.Equal("quarantine/year=2026/month=11/day=24/hour=13/rejected.jsonl", DataLayout.QuarantineFile(HourWindow.FromParts(2026, 11, 24, 13)));
    }

    [Theory]
    [InlineData("month=1", "month", 1)]
    [InlineData("month=01", "month", 1)]
    [InlineData("month=12", "month", 12)]
    [InlineData("hour=0", "hour", 0)]
    [InlineData("hour=00", "hour", 0)]
    [InlineData("minute=007", "minute", 7)]
    [InlineData("year=2026", "year", 2026)]
    [InlineData("day=999999999", "day", 999_999_999)]
    public void TryParseSegment_ReadsPaddedAndUnpaddedValues(string segment, string key, int expected)
    {
        Assert.True(DataLayout.TryParseSegment(segment, key, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("month=", "month")]
    [InlineData("month", "month")]
    [InlineData("", "month")]
    [InlineData("month=-1", "month")]
    [InlineData("month=+1", "month")]
    [InlineData("month=1a", "month")]
    [InlineData("month=a", "month")]
    [InlineData("month= 1", "month")]
    [InlineData("month=1 ", "month")]
    [InlineData("month=1.0", "month")]
    [InlineData("month=٣", "month")]
    [InlineData("month=1000000000", "month")]
    [InlineData("Month=1", "month")]
    [InlineData("months=1", "month")]
    [InlineData("month:1", "month")]
    [InlineData("day=1", "month")]
    [InlineData("xmonth=1", "month")]
    public void TryParseSegment_Rejects_WhenTheKeyDiffersOrTheValueIsNotADigitString(string segment, string key)
    {
        Assert.False(DataLayout.TryParseSegment(segment, key, out var value));
        Assert.Equal(0, value);
    }

    [Theory]
    [InlineData("raw_data/year=2026/month=11/day=24/hour=13/minute=05/part-0000.json", 2026, 11, 24, 13, 5)]
    [InlineData("raw_data/year=2026/month=1/day=5/hour=7/minute=3/x.json", 2026, 1, 5, 7, 3)]
    [InlineData("raw_data/year=2026/month=01/day=05/hour=07/minute=59/x.json.gz", 2026, 1, 5, 7, 59)]
    [InlineData("raw_data/year=2024/month=2/day=29/hour=23/minute=0/x.json", 2024, 2, 29, 23, 0)]
    [InlineData("raw_data/year=2026/month=11/day=24/hour=0/minute=00/sub/x.json", 2026, 11, 24, 0, 0)]
    public void TryParseRawKey_ReadsTheHourAndMinute(string key, int year, int month, int day, int hour, int minute)
    {
        Assert.True(DataLayout.TryParseRawKey(key, out var window, out var parsedMinute));
        Assert.Equal(HourWindow.FromParts(year, month, day, hour), window);
        Assert.Equal(minute, parsedMinute);
    }

    [Theory]
    [InlineData("")]
    [InlineData("raw_data/year=2026/month=11/day=24/hour=13/minute=05")]
    [InlineData("raw_data/year=2026/month=11/day=24/hour=13/x.json")]
    [InlineData("raw/year=2026/month=11/day=24/hour=13/minute=05/x.json")]
    [InlineData("aggregated_data/year=2026/month=11/day=24/hour=13/minute=05/x.json")]
    [InlineData("raw_data/month=11/year=2026/day=24/hour=13/minute=05/x.json")]
    [InlineData("raw_data/year=2026/month=13/day=24/hour=13/minute=05/x.json")]
    [InlineData("raw_data/year=2026/month=0/day=24/hour=13/minute=05/x.json")]
    [InlineData("raw_data/year=2026/month=02/day=29/hour=13/minute=05/x.json")]
    [InlineData("raw_data/year=2026/month=11/day=31/hour=13/minute=05/x.json")]
    [InlineData("raw_data/year=2026/month=11/day=0/hour=13/minute=05/x.json")]
    [InlineData("raw_data/year=2026/month=11/day=24/hour=24/minute=05/x.json")]
    [InlineData("raw_data/year=2026/month=11/day=24/hour=13/minute=60/x.json")]
    [InlineData("raw_data/year=0/month=11/day=24/hour=13/minute=05/x.json")]
    [InlineData("raw_data/year=10000/month=11/day=24/hour=13/minute=05/x.json")]
    [InlineData("raw_data/year=2026/month=-1/day=24/hour=13/minute=05/x.json")]
    [InlineData("raw_data/year=2026/month=nov/day=24/hour=13/minute=05/x.json")]
    [InlineData("raw_data/year=2026/month=11/day=24/hour=13/minute=/x.json")]
    [InlineData("raw_data\\year=2026\\month=11\\day=24\\hour=13\\minute=05\\x.json")]
    public void TryParseRawKey_Rejects_KeysOutsideTheRawLayout(string key)
    {
        Assert.False(DataLayout.TryParseRawKey(key, out _, out _));
    }

    [Theory]
    [InlineData(2026, 11, 24, 13, true)]
    [InlineData(2024, 2, 29, 0, true)]
    [InlineData(9999, 12, 31, 23, true)]
    [InlineData(1, 1, 1, 0, true)]
    [InlineData(0, 1, 1, 0, false)]
    [InlineData(10000, 1, 1, 0, false)]
    [InlineData(2026, 2, 29, 0, false)]
    [InlineData(2026, 0, 1, 0, false)]
    [InlineData(2026, 13, 1, 0, false)]
    [InlineData(2026, 1, 0, 0, false)]
    [InlineData(2026, 1, 1, -1, false)]
    [InlineData(2026, 1, 1, 24, false)]
    public void TryHour_AcceptsOnlyValidUtcDatesAndHours(int year, int month, int day, int hour, bool expected)
    {
        Assert.Equal(expected, DataLayout.TryHour(year, month, day, hour, out var window));
        if (expected) Assert.Equal((year, month, day, hour), (window.Year, window.Month, window.Day, window.Hour));
    }

    [Theory]
    [InlineData("part-0000.json", true)]
    [InlineData("part-0000.json.gz", true)]
    [InlineData("hits.jsonl", true)]
    [InlineData("hits.jsonl.gz", true)]
    [InlineData("hits.ndjson", true)]
    [InlineData("hits.ndjson.gz", true)]
    [InlineData("HITS.JSON", true)]
    [InlineData("hits.json.GZ", true)]
    [InlineData("hits-stream-1-2026-11-24-13-05-00-0b6ec8f4-6a4c-4b8e-9d47-6a1f2c3d4e5f", true)] // Kinesis Firehose: no extension
    [InlineData("hits.json.zst", true)]
    [InlineData("hits.gz", true)]
    [InlineData("hits.csv", true)]
    [InlineData("hits.json.tmp", true)]
    [InlineData("hits.json.bak", true)]
    [InlineData("hits.parquet", true)]
    [InlineData("hits", true)]
    [InlineData("json", true)]
    [InlineData(".hits.json", false)]
    [InlineData(".part-0000.json.gz", false)]
    [InlineData(".x", false)]
    [InlineData("_SUCCESS", false)]
    [InlineData("_temporary.json", false)]
    [InlineData("", false)]
    public void IsRawDataFile_IsEveryName_ButThoseStartingWithDotOrUnderscore(string name, bool expected)
    {
        Assert.Equal(expected, DataLayout.IsRawDataFile(name));
    }
}
