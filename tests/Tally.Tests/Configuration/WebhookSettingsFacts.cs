using Tally.Configuration;

namespace Tally.Tests.Configuration;

public class WebhookSettingsFacts
{
    private static TallySettings WithTimeout(string timeout, string? claimTime = null) => SettingsFromValues.Load(
        ("Events:Webhook:Url", "https://hooks.example.com/tally"),
        ("Events:Webhook:Secret", "change-me"),
        ("Events:Webhook:Timeout", timeout),
        ("Events:Delivery:ClaimTime", claimTime));

    [Fact]
    public void AWebhookTimeout_AsLongAsADeliveryClaim_IsRefused_SoTwoDispatchersCannotSendOneEventAtOnce()
    {
        var e = Assert.Throws<TallyException>(() => WithTimeout("00:02:00"));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Contains("Events:Webhook:Timeout must be less than 00:02:00 (Events:Delivery:ClaimTime)", e.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(119), WithTimeout("00:01:59").Events.Webhook.Timeout);
    }

    [Fact]
    public void TheClaimTime_IsASetting_AndALongerOneAdmitsALongerTimeout()
    {
        var settings = WithTimeout("00:04:00", claimTime: "00:05:00");

        Assert.Equal(TimeSpan.FromMinutes(5), settings.Events.Delivery.ClaimTime);
        Assert.Contains("Events:Delivery:ClaimTime must be positive.",
            Assert.Throws<TallyException>(() => WithTimeout("00:00:10", claimTime: "00:00:00")).Message, StringComparison.Ordinal);
    }
}
