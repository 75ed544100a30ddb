using Microsoft.Extensions.Options;

namespace Tally.Configuration;

/// <summary>
/// <c>tally serve</c>'s web dashboard (section <c>Dashboard</c>): where it listens and the token that lets requests from other
/// machines in. <c>--port</c>, <c>--bind</c> and <c>--token</c> override these.
/// </summary>
public sealed class DashboardSettings
{
    /// <summary>The settings section these are bound from.</summary>
    public const string Section = "Dashboard";

    /// <summary>The TCP port; 0 lets the system choose one (the URL is logged at start).</summary>
    public int Port { get; set; } = 5080;

    /// <summary>The address to listen on: an IP address; anything but a loopback address needs <see cref="Token"/>.</summary>
    public string Bind { get; set; } = "127.0.0.1";

    /// <summary>The access token requests from other machines must carry (<c>Authorization: Bearer …</c>, or the cookie a <c>?token=</c> login sets).</summary>
    public string? Token { get; set; }

    /// <summary>Whether <c>tally serve</c> serves the dashboard at all.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>The rules of the <c>Dashboard</c> section that need no command-line option (the address and the token are checked
/// with <c>--bind</c> and <c>--token</c> applied, when <c>tally serve</c> starts).</summary>
internal sealed class DashboardSettingsValidator : IValidateOptions<DashboardSettings>
{
    public ValidateOptionsResult Validate(string? name, DashboardSettings options) =>
        options.Port is < 0 or > 65535
            ? ValidateOptionsResult.Fail($"Dashboard:Port must be 0 to 65535, not {options.Port}.")
            : ValidateOptionsResult.Success;
}
