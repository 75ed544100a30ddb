using Tally.Configuration;

namespace Tally.Tests.Configuration;

public class WebhookSettingsFacts
{
    private static TallySettings WithTimeout(TimeSpan timeout)
    {
        var settings = new TallySettings();
        settings.Events.Webhook.Url = "https://hooks.example.com/tally";
        settings.Events.Webhook.Secret = "change-me";
        settings.Events.Webhook.Timeout = timeout;
        return settings;
    }

    [Fact]
    public void AWebhookTimeout_AsLongAsADeliveryClaim_IsRefused_SoTwoDispatchersCannotSendOneEventAtOnce()
    {
        var e = Assert.Throws<TallyException>(WithTimeout(TimeSpan.FromMinutes(2)).Validate);

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Contains("Events:Webhook:Timeout must be less than 00:02:00", e.Message, StringComparison.Ordinal);
        WithTimeout(TimeSpan.FromSeconds(119)).Validate();
    }
}
