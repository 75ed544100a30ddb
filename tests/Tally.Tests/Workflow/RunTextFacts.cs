using Tally.Events;
using Tally.Workflow;
using RunStatus = Tally.Workflow.RunStatus;

namespace Tally.Tests.Workflow;

/// <summary>The run vocabulary's text is exactly what metastores, JSON consumers and the AWS side already hold.</summary>
public sealed class RunTextFacts
{
    [Theory]
    [InlineData(nameof(RunTrigger.Manual), "manual")]
    [InlineData(nameof(RunTrigger.Schedule), "schedule")]
    [InlineData(nameof(RunTrigger.CatchUp), "catch-up")]
    [InlineData(nameof(RunTrigger.LateData), "late-data")]
    [InlineData(nameof(RunTrigger.Backfill), "backfill")]
    public void Trigger_HasItsText_BothWays(string member, string text)
    {
        var trigger = Enum.Parse<RunTrigger>(member);
        Assert.Equal(text, trigger.Text());
        Assert.Equal(trigger, RunText.Triggers.Parse(text));
    }

    [Theory]
    [InlineData("cron")]
    [InlineData("Manual")]
    [InlineData("")]
    public void Trigger_UnknownText_IsAnError_NotManual(string text)
    {
        var e = Assert.Throws<TallyException>(() => RunText.Triggers.Parse(text));
        Assert.Equal(TallyErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("catch-up", e.Message);
    }

    [Fact]
    public void Statuses_Outcomes_AndDeliveryTexts_AreTheStoredOnes()
    {
        Assert.Equal(["running", "succeeded", "failed", "abandoned", "cancelled"], RunText.Statuses.Texts);
        Assert.Equal(["running", "succeeded", "failed", "retrying", "abandoned"], RunText.Outcomes.Texts);
        Assert.Equal(["pending", "delivered", "expired"], DeliveryText.Statuses.Texts);
        Assert.Equal(["delivered", "failed"], DeliveryText.Outcomes.Texts);
        Assert.Equal(RunStatus.Abandoned, RunText.Statuses.Parse("abandoned"));
        Assert.False(RunText.Statuses.TryParse("queued", out _));
    }

    [Theory]
    [InlineData(TallyErrorKind.DataError, "Tally.DataError")]
    [InlineData(TallyErrorKind.Transient, "Tally.Transient")]
    [InlineData(TallyErrorKind.LeaseLost, "Tally.LeaseLost")]
    [InlineData(TallyErrorKind.Cancelled, "Tally.Cancelled")]
    [InlineData(TallyErrorKind.Abandoned, "Tally.Abandoned")]
    [InlineData(TallyErrorKind.Timeout, "Tally.Timeout")]
    public void ErrorName_IsTheRecordedOne_AndParsesBack(TallyErrorKind kind, string name)
    {
        Assert.Equal(name, TallyException.ErrorName(kind));
        Assert.True(TallyException.TryParseErrorName(name, out var parsed));
        Assert.Equal(kind, parsed);
    }

    [Theory]
    [InlineData("System.IO.IOException")]
    [InlineData("Tally.Nope")]
    [InlineData("Tally.1")]
    [InlineData("tally.DataError")]
    [InlineData(null)]
    public void ErrorName_OfNoKind_DoesNotParse(string? name)
    {
        Assert.False(TallyException.TryParseErrorName(name, out _));
    }
}
