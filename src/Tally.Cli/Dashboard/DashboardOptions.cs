using System.Net;
using System.Net.Sockets;
using Tally.Configuration;

namespace Tally.Cli.Dashboard;

/// <summary>Where the dashboard listens and who may use it, resolved from the options and the settings and checked.</summary>
/// <param name="Token">Null when none is set; then only loopback addresses may be bound.</param>
internal sealed record DashboardOptions(IPAddress Bind, int Port, string? Token)
{
    /// <summary>The cookie a <c>?token=</c> login sets, so a browser on another machine need not send a header.</summary>
    public const string TokenCookie = "tally_token";

    /// <summary>Whether only this machine can connect (127.0.0.0/8 or ::1).</summary>
    public bool LoopbackOnly => IPAddress.IsLoopback(Bind);

    /// <summary>
    /// Fails with one clear sentence when the port is taken, before the scheduler starts (Kestrel would only fail after it,
    /// with its stack trace in the log). Port 0 is always free.
    /// </summary>
    /// <exception cref="TallyException">InvalidArgument when the address cannot be listened on.</exception>
    public void EnsurePortIsFree()
    {
        if (Port == 0) return;
        var probe = new TcpListener(Bind, Port);
        try
        {
            probe.Start();
        }
        catch (SocketException e)
        {
            throw TallyException.InvalidArgument($"The dashboard cannot listen on {Bind}:{Port}: {e.Message}. Choose another --port, or --port 0.");
        }
        finally
        {
            probe.Stop();
        }
    }

    /// <summary>
    /// The options over the settings: <paramref name="port"/>, <paramref name="bind"/> and <paramref name="token"/> when given,
    /// else <c>Dashboard:Port</c>, <c>Dashboard:Bind</c>, <c>Dashboard:Token</c>.
    /// </summary>
    /// <exception cref="TallyException">InvalidArgument when the address or port is not valid, or when an address beyond loopback
    /// is asked for without a token.</exception>
    public static DashboardOptions Resolve(DashboardSettings settings, int? port, string? bind, string? token)
    {
        var text = bind ?? settings.Bind;
        if (!IPAddress.TryParse(text, out var address))
        {
            throw TallyException.InvalidArgument($"--bind '{text}' is not an IP address; use 127.0.0.1 (this machine only, the default), or 0.0.0.0 with --token.");
        }
        var p = port ?? settings.Port;
        if (p is < 0 or > 65535) throw TallyException.InvalidArgument($"--port {p} is not a TCP port (0-65535; 0 lets the system choose).");
        var secret = string.IsNullOrWhiteSpace(token) ? (string.IsNullOrWhiteSpace(settings.Token) ? null : settings.Token) : token;
        var options = new DashboardOptions(address, p, secret);
        if (!options.LoopbackOnly && secret is null)
        {
            throw TallyException.InvalidArgument(
                $"The dashboard would listen on {address}, beyond this machine, without an access token; give --token (or the Dashboard:Token setting, TALLY_Dashboard__Token), or bind 127.0.0.1.");
        }
        if (secret is { Length: < 16 })
        {
            throw TallyException.InvalidArgument("The dashboard's access token must be at least 16 characters long.");
        }
        return options;
    }
}
