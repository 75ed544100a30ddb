using Tally.Configuration;
using Tally.Query;

namespace Tally.Tests.Configuration;

public class QuerySettingsFacts
{
    [Fact]
    public void Defaults_AreThirtySeconds_OneGibibyte_AThousandRows_TwoQueriesAtOnce()
    {
        var settings = SettingsFromValues.Load();

        Assert.Equal(new Tally.Query.QueryLimits(TimeSpan.FromSeconds(30), 1L << 30), settings.Query.Limits());
        Assert.Equal(1000, settings.Query.MaxRows);
        Assert.Equal(2, settings.Query.MaxConcurrent);
        Assert.Equal(16, settings.Query.MaxQueued);
    }

    [Theory]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("512MB", 512_000_000L)]
    [InlineData("64 MiB", 64L << 20)]
    [InlineData("1.5gb", 1_500_000_000L)]
    [InlineData(" 2TiB ", 2L << 40)]
    [InlineData("20000000B", 20_000_000L)]
    public void MemoryLimit_IsANumberAndAUnit_AsDuckDbWritesThem(string text, long bytes)
    {
        Assert.True(QuerySettings.TryParseBytes(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("1G")]
    [InlineData("80%")]
    [InlineData("GiB")]
    [InlineData("-1GiB")]
    [InlineData("")]
    [InlineData("9999999999TB")]
    public void MemoryLimit_ThatIsNoSize_IsNotRead(string text) => Assert.False(QuerySettings.TryParseBytes(text, out _));

    [Theory]
    [InlineData("Timeout", "00:00:00", "Query:Timeout must be positive.")]
    [InlineData("MemoryLimit", "lots", "Query:MemoryLimit 'lots' is not a size; write a number and a unit, for example 1GiB or 512MB.")]
    [InlineData("MemoryLimit", "1MiB", "Query:MemoryLimit must be at least 16MiB, not '1MiB'.")]
    [InlineData("MaxRows", "0", "Query:MaxRows must be 1 or more.")]
    [InlineData("MaxConcurrent", "0", "Query:MaxConcurrent must be 1 or more.")]
    [InlineData("MaxQueued", "-1", "Query:MaxQueued must be 0 or more.")]
    public void ABadValue_FromTheSettingsFile_IsRefusedInOneSentenceNamingTheKey(string key, string value, string message)
    {
        var folder = Path.Combine(Path.GetTempPath(), "tally-query-settings-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, TallySettings.FileName), $$"""{ "Query": { "{{key}}": "{{value}}" } }""");

            var e = Assert.Throws<TallyException>(() => TallySettings.Load(folder));

            Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
            Assert.Equal(message, e.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void EveryKey_IsReadFromTheSettingsFile()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tally-query-settings-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, TallySettings.FileName),
                """{ "Query": { "Timeout": "00:00:05", "MemoryLimit": "256MiB", "MaxRows": 50, "MaxConcurrent": 1, "MaxQueued": 0 } }""");

            var query = TallySettings.Load(folder).Query;

            Assert.Equal(new Tally.Query.QueryLimits(TimeSpan.FromSeconds(5), 256L << 20, 1), query.Limits(threads: 1));
            Assert.Equal((50, 1, 0), (query.MaxRows, query.MaxConcurrent, query.MaxQueued));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
