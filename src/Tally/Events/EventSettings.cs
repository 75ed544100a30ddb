using Microsoft.Extensions.Options;

namespace Tally.Events;

/// <summary>Which events are published and where they are delivered (section <c>Events</c>).</summary>
public sealed class EventSettings
{
    /// <summary>The settings section these are bound from.</summary>
    public const string Section = "Events";

    /// <summary>Whether a succeeded run publishes an event too (failures always do).</summary>
    public bool PublishSuccess { get; set; }

    /// <summary>The envelope's <c>account</c>.</summary>
    public string Account { get; set; } = "000000000000";

    /// <summary>The envelope's <c>region</c>.</summary>
    public string Region { get; set; } = "local";

    public WebhookSettings Webhook { get; set; } = new();

    public FileSinkSettings File { get; set; } = new();

    public LogSinkSettings Log { get; set; } = new();

    public DeliverySettings Delivery { get; set; } = new();
}

/// <summary>The webhook sink: an HTTP POST of the event's JSON, signed with HMAC-SHA256.</summary>
public sealed class WebhookSettings
{
    /// <summary>Where events are posted; no webhook when empty.</summary>
    public string? Url { get; set; }

    /// <summary>The HMAC-SHA256 key of the <c>X-Tally-Signature</c> header.</summary>
    public string? Secret { get; set; }

    /// <summary>How long one attempt may take; shorter than <see cref="DeliverySettings.ClaimTime"/>.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The file sink: one JSON line per event, appended.</summary>
public sealed class FileSinkSettings
{
    /// <summary>The JSON Lines file; relative paths are relative to the state directory; no file sink when empty.</summary>
    public string? Path { get; set; }
}

/// <summary>The log sink: one line per event on stderr.</summary>
public sealed class LogSinkSettings
{
    public bool Enabled { get; set; }
}

/// <summary>How stored events are delivered to the sinks.</summary>
public sealed class DeliverySettings
{
    /// <summary>The wait after the first failed attempt; it doubles (with ±20 % jitter) up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long after an event is stored its delivery is still attempted.</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long <c>tally run</c> keeps delivering at its end before leaving the rest to the next process.</summary>
    public TimeSpan WaitAfterRun { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a dispatcher holds a delivery it is attempting: no other process attempts it meanwhile, so one
    /// attempt (a webhook's <see cref="WebhookSettings.Timeout"/>) must be shorter; a dispatcher that died frees it after this.</summary>
    public TimeSpan ClaimTime { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>The rules of the <c>Events</c> section, checked once when the settings are loaded.</summary>
internal sealed class EventSettingsValidator : IValidateOptions<EventSettings>
{
    public ValidateOptionsResult Validate(string? name, EventSettings options)
    {
        var failures = new List<string>();
        var delivery = options.Delivery;
        if (delivery.InitialBackoff <= TimeSpan.Zero || delivery.MaxBackoff < delivery.InitialBackoff)
        {
            failures.Add("Events:Delivery:InitialBackoff must be positive and Events:Delivery:MaxBackoff at least as long.");
        }
        if (delivery.Expiry <= TimeSpan.Zero || delivery.WaitAfterRun < TimeSpan.Zero)
        {
            failures.Add("Events:Delivery:Expiry must be positive and Events:Delivery:WaitAfterRun 0 or more.");
        }
        if (delivery.ClaimTime <= TimeSpan.Zero) failures.Add("Events:Delivery:ClaimTime must be positive.");
        if (options.Webhook.Url is { Length: > 0 } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                failures.Add($"Events:Webhook:Url '{url}' is not an http or https URL.");
            }
            if (string.IsNullOrEmpty(options.Webhook.Secret))
            {
                failures.Add("Events:Webhook:Secret must be set when Events:Webhook:Url is (the HMAC key of X-Tally-Signature).");
            }
            if (options.Webhook.Timeout <= TimeSpan.Zero) failures.Add("Events:Webhook:Timeout must be positive.");
            else if (options.Webhook.Timeout >= delivery.ClaimTime)
            {
                failures.Add($"Events:Webhook:Timeout must be less than {delivery.ClaimTime:c} (Events:Delivery:ClaimTime), the time a delivery attempt is claimed for.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
