using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Tally.Cli.Commands;
using Tally.Cli.DataFolder;
using Tally.Cli.Dashboard;
using Tally.Configuration;

namespace Tally.Dashboard.Tests;

/// <summary>
/// Who may use the dashboard. The remote address of a request can only be chosen in process, so these tests serve the real
/// dashboard (same middleware and endpoints as <c>tally serve</c>) on ASP.NET Core's TestServer over a real data folder.
/// </summary>
public sealed class DashboardAccessFacts : IAsyncLifetime
{
    private const string Token = "s3cret-token-for-tests-0123456789";
    private static readonly IPAddress Remote = IPAddress.Parse("203.0.113.7"); // TEST-NET-3: never routed, only a label here.

    private readonly string _data = Path.Combine(Path.GetTempPath(), "tally-access-" + Guid.NewGuid().ToString("N")[..8]);
    private WorkflowState? _state;
    private WebApplication? _withToken;
    private WebApplication? _withoutToken;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_data);
        var settings = new ServeCommand.Settings { DataOption = _data };
        var tally = settings.Tally;
        _state = await WorkflowState.OpenAsync(settings.StateDirectory, tally, CancellationToken.None);
        var context = await DashboardContext.OpenAsync(settings.StateDirectory, tally, _state, settings.OpenStore(), CancellationToken.None);
        _withToken = await StartAsync(context, DashboardOptions.Resolve(tally.Dashboard, 0, "0.0.0.0", Token));
        _withoutToken = await StartAsync(context, DashboardOptions.Resolve(tally.Dashboard, 0, null, null));
    }

    public async Task DisposeAsync()
    {
        if (_withToken is not null) await _withToken.DisposeAsync();
        if (_withoutToken is not null) await _withoutToken.DisposeAsync();
        _state?.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private static async Task<WebApplication> StartAsync(DashboardContext context, DashboardOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        DashboardJson.AddTo(builder.Services);
        var app = builder.Build();
        DashboardServer.Map(app, context, options);
        await app.StartAsync();
        return app;
    }

    private static Task<HttpContext> SendAsync(WebApplication app, IPAddress from, string path, Action<HttpRequest>? request = null) =>
        app.GetTestServer().SendAsync(c =>
        {
            c.Connection.RemoteIpAddress = from;
            c.Request.Method = "GET";
            c.Request.Host = new HostString("localhost");
            var query = path.IndexOf('?', StringComparison.Ordinal);
            c.Request.Path = query < 0 ? path : path[..query];
            if (query >= 0) c.Request.QueryString = new QueryString(path[query..]);
            request?.Invoke(c.Request);
        });

    [Theory]
    [InlineData("/api/runs")]
    [InlineData("/")]
    [InlineData("/metrics")]
    [InlineData("/healthz")]
    public async Task ARequestFromAnotherMachine_WithoutTheToken_IsRefused(string path)
    {
        var response = (await SendAsync(_withToken!, Remote, path)).Response;

        Assert.Equal(StatusCodes.Status401Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WWWAuthenticate.ToString());
    }

    [Fact]
    public async Task ARequestFromAnotherMachine_WithAWrongToken_IsRefused()
    {
        var response = (await SendAsync(_withToken!, Remote, "/api/runs", r => r.Headers.Authorization = "Bearer not-the-token-at-all-no")).Response;

        Assert.Equal(StatusCodes.Status401Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ARequestFromAnotherMachine_WithTheBearerToken_IsServed()
    {
        var response = (await SendAsync(_withToken!, Remote, "/api/runs", r => r.Headers.Authorization = $"Bearer {Token}")).Response;

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        Assert.Equal("[]", await new StreamReader(response.Body).ReadToEndAsync());
    }

    [Fact]
    public async Task ATokenLogin_SetsACookie_ThatLetsTheNextRequestsIn()
    {
        var login = (await SendAsync(_withToken!, Remote, $"/charts?token={Token}")).Response;
        Assert.Equal(StatusCodes.Status302Found, login.StatusCode);
        Assert.Equal("/charts", login.Headers.Location.ToString());
        var cookie = login.Headers.SetCookie.ToString();
        Assert.StartsWith($"{DashboardOptions.TokenCookie}={Uri.EscapeDataString(Token)}", cookie);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);

        var page = (await SendAsync(_withToken!, Remote, "/charts", r => r.Headers.Cookie = $"{DashboardOptions.TokenCookie}={Uri.EscapeDataString(Token)}")).Response;

        Assert.Equal(StatusCodes.Status200OK, page.StatusCode);
        Assert.StartsWith("text/html", page.ContentType);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    public async Task ARequestFromThisMachine_NeedsNoToken(string address)
    {
        var response = (await SendAsync(_withToken!, IPAddress.Parse(address), "/api/runs")).Response;

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
    }

    [Fact]
    public async Task WithoutAToken_ARequestFromAnotherMachine_IsRefused()
    {
        var response = (await SendAsync(_withoutToken!, Remote, "/api/runs", r => r.Headers.Authorization = "Bearer anything-at-all-here-1234")).Response;

        Assert.Equal(StatusCodes.Status401Unauthorized, response.StatusCode);
        Assert.Equal(StatusCodes.Status200OK, (await SendAsync(_withoutToken!, IPAddress.Loopback, "/api/runs")).Response.StatusCode);
    }

    [Fact]
    public async Task APostFromAnotherSitesPage_IsRefused_EvenFromThisMachine()
    {
        var forged = (await SendAsync(_withoutToken!, IPAddress.Loopback, "/api/hours/2026-11-24T13/runs", r =>
        {
            r.Method = "POST";
            r.Headers.Origin = "http://attacker.example";
        })).Response;
        var own = (await SendAsync(_withoutToken!, IPAddress.Loopback, "/api/hours/2026-11-24T13/runs", r =>
        {
            r.Method = "POST";
            r.Headers.Origin = $"http://{r.Host}";
        })).Response;

        Assert.Equal(StatusCodes.Status403Forbidden, forged.StatusCode);
        // Past the check: no scheduler runs in this in-process app, so the rerun itself answers 503.
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, own.StatusCode);
    }

    [Theory]
    [InlineData("attacker.example", StatusCodes.Status400BadRequest)]
    [InlineData("127.0.0.1:5080", StatusCodes.Status200OK)]
    [InlineData("localhost:5080", StatusCodes.Status200OK)]
    [InlineData("[::1]:5080", StatusCodes.Status200OK)]
    public async Task ALoopbackOnlyDashboard_AnswersOnlyToThisMachinesNames(string host, int status)
    {
        var response = (await SendAsync(_withoutToken!, IPAddress.Loopback, "/api/runs", r => r.Host = new HostString(host))).Response;

        Assert.Equal(status, response.StatusCode);
    }

    [Theory]
    [InlineData("0.0.0.0", null, "without an access token")]
    [InlineData("::", null, "without an access token")]
    [InlineData("192.0.2.1", null, "without an access token")]
    [InlineData("0.0.0.0", "short", "at least 16 characters")]
    [InlineData("localhost", null, "is not an IP address")]
    public void Options_RefuseAnAddressBeyondLoopbackWithoutAToken_AndBadValues(string bind, string? token, string message)
    {
        var e = Assert.Throws<TallyException>(() => DashboardOptions.Resolve(new DashboardSettings(), null, bind, token));

        Assert.Equal(TallyErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Options_TakeTheTokenFromTheSettings_WhenNoOptionGivesIt()
    {
        var options = DashboardOptions.Resolve(new DashboardSettings { Bind = "0.0.0.0", Token = Token, Port = 6000 }, null, null, null);

        Assert.Equal(IPAddress.Any, options.Bind);
        Assert.Equal(6000, options.Port);
        Assert.Equal(Token, options.Token);
        Assert.False(options.LoopbackOnly);
    }

    [Fact]
    public async Task Serve_BoundBeyondLoopback_OverARealConnectionFromANonLoopbackAddress_RefusesWithoutTheToken()
    {
        // A connection to this machine's own network address comes from that address, not from loopback: a real request
        // "from another machine" without leaving this one.
        var address = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        Assert.True(address is not null, "This test needs a network interface with an IPv4 address besides loopback.");
        var serve = TallyProcess.Start([("TALLY_Dashboard__Token", Token)], "serve", "--data", _data, "--bind", "0.0.0.0", "--port", "0", "--cron", "0 0 1 1 *");
        try
        {
            var url = await serve.DashboardUrlAsync();
            var remote = new UriBuilder(url) { Host = address.ToString() }.Uri;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

            using var anonymous = await http.GetAsync(new Uri(remote, "/api/runs"));
            using var wrong = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(remote, "/api/runs")) { Headers = { { "Authorization", "Bearer wrong-token-0123456789" } } });
            using var bearer = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(remote, "/api/runs")) { Headers = { { "Authorization", $"Bearer {Token}" } } });
            using var local = await http.GetAsync(new Uri(new UriBuilder(url) { Host = "127.0.0.1" }.Uri, "/api/runs"));

            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Contains("access token", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
            Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        }
        finally
        {
            serve.Terminate();
            var result = await serve.EndAsync();
            Assert.True(result.ExitCode == 0, result.ToString());
        }
    }

    [Fact]
    public async Task Serve_RefusesToStart_WhenBoundBeyondLoopbackWithoutAToken()
    {
        var result = await TallyProcess.RunAsync("serve", "--data", _data, "--bind", "0.0.0.0", "--port", "0");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("without an access token", result.Stderr.Replace("\n", "", StringComparison.Ordinal));
        Assert.DoesNotContain("Now listening", result.Stdout);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Serve_ExitsWithOneClearSentence_WhenThePortIsTaken()
    {
        var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            var port = ((IPEndPoint)taken.LocalEndpoint).Port;

            var result = await TallyProcess.RunAsync("serve", "--data", _data, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Equal($"error: The dashboard cannot listen on 127.0.0.1:{port}: Address already in use. Choose another --port, or --port 0.", result.Stderr.Trim());
            Assert.DoesNotContain("   at ", result.Stdout + result.Stderr);
        }
        finally
        {
            taken.Stop();
        }
    }

    [Fact]
    public async Task Serve_WithNoDashboard_RunsTheSchedulerAlone_AndExitsZeroOnSigterm()
    {
        var serve = TallyProcess.Start("serve", "--data", _data, "--no-dashboard", "--cron", "0 0 1 1 *");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!serve.Stdout.Contains("tick(s) to catch up", StringComparison.Ordinal) && !serve.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(50);
        serve.Terminate();
        var result = await serve.EndAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("tick(s) to catch up", result.Stdout);
        Assert.DoesNotContain("Now listening", result.Stdout);
        Assert.DoesNotContain("Dashboard:", result.Stdout);
    }

    [Fact]
    public async Task Serve_ReadsTheTokenFromTheEnvironment()
    {
        // A token too short to accept proves TALLY_Dashboard__Token is read, without anything listening.
        var serve = TallyProcess.Start([("TALLY_Dashboard__Token", "short")], "serve", "--data", _data, "--port", "0");
        var result = await serve.EndAsync();

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("at least 16 characters", result.Stderr);
    }
}
