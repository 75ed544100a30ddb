using System.Text;
using System.Text.Json;
using Tally.Aws.Lambda;

namespace Tally.Aws.Lambda.Tests;

public class FunctionTests
{
    private static JsonElement Invoke(string input)
    {
        using var stream = new Function().Handler(new MemoryStream(Encoding.UTF8.GetBytes(input)));
        using var doc = JsonDocument.Parse(stream);
        return doc.RootElement.Clone();
    }

    [Theory]
    [InlineData("2026-11-24T14:00:00Z", "2026-11-24T13")]
    [InlineData("2026-11-24T14:59:59Z", "2026-11-24T13")]
    [InlineData("2026-11-24T14:00:00.000Z", "2026-11-24T13")]
    [InlineData("2026-11-24T14:30", "2026-11-24T13")]
    [InlineData("2026-11-24T14:00:00+02:00", "2026-11-24T11")]
    [InlineData("2026-11-24T00:00:00Z", "2026-11-23T23")]
    [InlineData("2027-01-01T00:05:00Z", "2026-12-31T23")]
    [InlineData("2028-03-01T00:00:00Z", "2028-02-29T23")]
    [InlineData("2026-03-29T03:00:00+02:00", "2026-03-29T00")]
    public void Handler_ReturnsPrecedingUtcHour_ForScheduledTime(string scheduledTime, string expectedHour)
    {
        var input = JsonSerializer.Serialize(new Dictionary<string, string> { ["target_datetime"] = scheduledTime });

        var output = Invoke(input);

        Assert.Equal(expectedHour, output.GetProperty("target_hour").GetString());
        Assert.Equal(HourWindow.FromWorkflowInput(input).ToString(), output.GetProperty("target_hour").GetString());
    }

    [Fact]
    public void Handler_ReturnsZeroPaddedPartitionValuesAndBounds()
    {
        var output = Invoke("""{"target_datetime": "2026-02-03T05:00:00Z"}""");

        Assert.Equal("2026-02-03T04", output.GetProperty("target_hour").GetString());
        Assert.Equal("2026", output.GetProperty("year").GetString());
        Assert.Equal("02", output.GetProperty("month").GetString());
        Assert.Equal("03", output.GetProperty("day").GetString());
        Assert.Equal("04", output.GetProperty("hour").GetString());
        Assert.Equal("2026-02-03T04:00:00Z", output.GetProperty("start").GetString());
        Assert.Equal("2026-02-03T05:00:00Z", output.GetProperty("end").GetString());
    }

    [Fact]
    public void Handler_IgnoresOtherInputFields_AsSchedulerAndManualRunsMayAddThem()
    {
        var output = Invoke("""{"target_datetime": "2026-11-24T14:00:00Z", "trigger": "manual"}""");

        Assert.Equal("2026-11-24T13", output.GetProperty("target_hour").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"target_datetime": 5}""")]
    [InlineData("""{"target_datetime": "yesterday"}""")]
    [InlineData("""{"target_datetime": "<aws.scheduler.scheduled-time>"}""")]
    public void Handler_ThrowsInvalidArgument_WhenInputIsNotASchedulerInput(string input)
    {
        var e = Assert.Throws<TallyException>(() => Invoke(input));

        Assert.Equal(TallyErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void HandlerString_TheCdkAppDeploys_NamesThisAssemblyClassAndStreamMethod()
    {
        var method = typeof(Function).GetMethod(nameof(Function.Handler))!;
        var handler = $"{typeof(Function).Assembly.GetName().Name}::{typeof(Function).FullName}::{method.Name}";

        Assert.Equal("Tally.Aws.Lambda::Tally.Aws.Lambda.Function::Handler", handler);
        Assert.Equal(typeof(Stream), method.ReturnType);
        Assert.Equal([typeof(Stream)], method.GetParameters().Select(p => p.ParameterType));
        Assert.NotNull(typeof(Function).GetConstructor(Type.EmptyTypes));
    }
}
