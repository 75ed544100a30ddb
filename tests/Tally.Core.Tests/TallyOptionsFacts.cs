namespace Tally.Core.Tests;

public class TallyOptionsFacts
{
    [Fact]
    public void Defaults_AreTheSeedsCatalogNamesAndAOnePercentThreshold()
    {
        var options = new TallyOptions();

        Assert.Equal(0.01, options.RejectedThreshold);
        Assert.Equal(AggregationSpec.Defaults, options.Aggregations);
        Assert.Equal("demo-aggregated-data", options.AggregatedDatabase);
        Assert.Equal("demo-raw-data", options.RawDatabase);
        Assert.Equal("raw_data", options.RawTable);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void Validate_AcceptsAThresholdBetweenZeroAndOne(double threshold)
    {
        new TallyOptions { RejectedThreshold = threshold }.Validate();
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.01)]
    [InlineData(5.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Validate_ThrowsInvalidConfiguration_ForAThresholdOutsideZeroToOne(double threshold)
    {
        var e = Assert.Throws<TallyException>(() => new TallyOptions { RejectedThreshold = threshold }.Validate());

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Contains("threshold", e.Message);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(64, false)]
    [InlineData(-1, true)]
    public void Validate_RejectsANegativeParallelism(int parallelism, bool throws)
    {
        var options = new TallyOptions { MaxParallelism = parallelism };

        if (throws)
        {
            Assert.Equal(TallyErrorKind.InvalidConfiguration, Assert.Throws<TallyException>(options.Validate).Kind);
        }
        else
        {
            options.Validate();
        }
    }

    [Fact]
    public void EffectiveParallelism_IsTheProcessorCount_WhenZero()
    {
        Assert.Equal(Environment.ProcessorCount, new TallyOptions().EffectiveParallelism);
        Assert.Equal(3, new TallyOptions { MaxParallelism = 3 }.EffectiveParallelism);
    }

    [Fact]
    public void Validate_ChecksTheAggregations()
    {
        var options = new TallyOptions { Aggregations = [new("t", ["Nope"], TableFormat.Json)] };

        Assert.Equal(TallyErrorKind.InvalidConfiguration, Assert.Throws<TallyException>(options.Validate).Kind);
    }
}

public class TallyExceptionFacts
{
    [Theory]
    [InlineData(TallyErrorKind.InvalidArgument, false)]
    [InlineData(TallyErrorKind.InvalidConfiguration, false)]
    [InlineData(TallyErrorKind.NotFound, false)]
    [InlineData(TallyErrorKind.DataError, false)]
    [InlineData(TallyErrorKind.Transient, true)]
    [InlineData(TallyErrorKind.Timeout, false)]
    public void EachFactory_SetsItsKind_AndOnlyTransientMayBeRetried(TallyErrorKind kind, bool transient)
    {
        var e = kind switch
        {
            TallyErrorKind.InvalidArgument => TallyException.InvalidArgument("m"),
            TallyErrorKind.InvalidConfiguration => TallyException.InvalidConfiguration("m"),
            TallyErrorKind.NotFound => TallyException.NotFound("m"),
            TallyErrorKind.DataError => TallyException.DataError("m"),
            TallyErrorKind.Timeout => TallyException.Timeout("m"),
            _ => TallyException.Transient("m"),
        };

        Assert.Equal(kind, e.Kind);
        Assert.Equal(transient, e.IsTransient);
        Assert.Equal("m", e.Message);
    }

    [Fact]
    public void Transient_KeepsTheCause()
    {
        var cause = new IOException("disk");

        Assert.Same(cause, TallyException.Transient("Cannot read.", cause).InnerException);
    }
}
