using Microsoft.Extensions.Options;

namespace Tally.State;

/// <summary>How the metastore file is used (section <c>State</c>).</summary>
public sealed class StateSettings
{
    /// <summary>The settings section these are bound from.</summary>
    public const string Section = "State";

    /// <summary>How long an operation waits for another process's write lock on <c>metastore.db</c> before it fails (as a
    /// transient error, which a run retries).</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The rules of the <c>State</c> section, checked once when the settings are loaded.</summary>
internal sealed class StateSettingsValidator : IValidateOptions<StateSettings>
{
    /// <summary>SQLite's busy timeout is a 32-bit count of milliseconds; a day is far beyond any sensible wait.</summary>
    private static readonly TimeSpan Longest = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, StateSettings options) =>
        options.BusyTimeout < TimeSpan.FromMilliseconds(1) || options.BusyTimeout > Longest
            ? ValidateOptionsResult.Fail("State:BusyTimeout must be at least a millisecond and at most a day.")
            : ValidateOptionsResult.Success;
}
