using Microsoft.Extensions.Options;
using Tally.Events;

namespace Tally.Workflow;

/// <summary>What the hourly workflow is configured with: the engine's options and the <c>Retry</c>, <c>Lease</c> and
/// <c>Events</c> sections.</summary>
public sealed record WorkflowSettings(TallyOptions Engine, RetrySettings Retry, LeaseSettings Lease, EventSettings Events);

/// <summary>How AggregateHour is retried after a transient failure (I/O, storage throttling or 5xx) (section <c>Retry</c>).</summary>
public sealed class RetrySettings
{
    /// <summary>The settings section these are bound from.</summary>
    public const string Section = "Retry";

    /// <summary>Attempts in all, the first included; 1 = no retry.</summary>
    public int MaxAttempts { get; set; } = WorkflowContract.AggregateHourRetry.MaxAttempts;

    /// <summary>The wait before the second attempt; it doubles for each further one.</summary>
    public TimeSpan InitialDelay { get; set; } = WorkflowContract.AggregateHourRetry.InitialDelay;

    /// <summary>The longest wait between two attempts.</summary>
    public TimeSpan MaxDelay { get; set; } = WorkflowContract.AggregateHourRetry.MaxDelay;

    /// <summary>These settings as the policy the AggregateHour Lambda function applies by default.</summary>
    internal RetryPolicy ToPolicy() => new(MaxAttempts, InitialDelay, MaxDelay);
}

/// <summary>The lease that lets at most one run of an hour go on at a time, across processes (section <c>Lease</c>).</summary>
public sealed class LeaseSettings
{
    /// <summary>The settings section these are bound from.</summary>
    public const string Section = "Lease";

    /// <summary>How long a lease lives without a heartbeat; a holder that died loses it after this.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a running run renews its lease.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>The rules of the <c>Retry</c> section, checked once when the settings are loaded.</summary>
internal sealed class RetrySettingsValidator : IValidateOptions<RetrySettings>
{
    public ValidateOptionsResult Validate(string? name, RetrySettings options)
    {
        var failures = new List<string>();
        if (options.MaxAttempts < 1) failures.Add("Retry:MaxAttempts must be 1 or more.");
        if (options.InitialDelay < TimeSpan.Zero || options.MaxDelay < options.InitialDelay)
        {
            failures.Add("Retry:InitialDelay must be 0 or more and Retry:MaxDelay at least as long.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The rules of the <c>Lease</c> section, checked once when the settings are loaded.</summary>
internal sealed class LeaseSettingsValidator : IValidateOptions<LeaseSettings>
{
    public ValidateOptionsResult Validate(string? name, LeaseSettings options) =>
        options.Ttl <= TimeSpan.Zero || options.Heartbeat <= TimeSpan.Zero || options.Heartbeat >= options.Ttl
            ? ValidateOptionsResult.Fail("Lease:Heartbeat must be shorter than Lease:Ttl, and both positive.")
            : ValidateOptionsResult.Success;
}
