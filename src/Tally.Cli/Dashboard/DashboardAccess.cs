using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Tally.Cli.Dashboard;

/// <summary>
/// Who may use the dashboard: requests from this machine (a loopback address) always; others only with the access token, as
/// <c>Authorization: Bearer &lt;token&gt;</c> or the cookie that visiting any page with <c>?token=&lt;token&gt;</c> sets. Without a
/// token configured the server only binds loopback (see <see cref="DashboardOptions.Resolve"/>), and any other request is refused.
/// A loopback-only dashboard also refuses Host names that are not this machine's (DNS rebinding), and every dashboard
/// refuses a POST whose Origin is another site (cross-site request forgery).
/// </summary>
internal sealed class DashboardAccess(DashboardOptions options)
{
    private readonly byte[]? _token = options.Token is { } t ? Encoding.UTF8.GetBytes(t) : null;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        // A web page elsewhere must not reach a loopback-only dashboard through a DNS name it points at 127.0.0.1 (DNS
        // rebinding), nor make the browser post to it (a rerun, a query) from another origin.
        if (options.LoopbackOnly && !IsLoopbackName(context.Request.Host.Host))
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, $"This dashboard only answers to this machine's names (127.0.0.1, localhost), not '{context.Request.Host.Host}'.");
            return;
        }
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !SameOrigin(context.Request))
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden, "Requests that change something must come from the dashboard's own pages (their Origin differs).");
            return;
        }
        if (context.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote))
        {
            await next(context);
            return;
        }
        if (_token is not null)
        {
            if (context.Request.Query.TryGetValue("token", out var login) && Matches(login.ToString()))
            {
                context.Response.Cookies.Append(DashboardOptions.TokenCookie, login.ToString(),
                    new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/" });
                context.Response.Redirect(context.Request.PathBase + context.Request.Path);
                return;
            }
            var header = context.Request.Headers.Authorization.ToString();
            if ((header.StartsWith("Bearer ", StringComparison.Ordinal) && Matches(header["Bearer ".Length..].Trim()))
                || (context.Request.Cookies.TryGetValue(DashboardOptions.TokenCookie, out var cookie) && Matches(cookie)))
            {
                await next(context);
                return;
            }
        }
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await DashboardResults.WriteErrorAsync(context.Response, _token is null
            ? "The dashboard only answers requests from this machine."
            : "This request needs the dashboard's access token: Authorization: Bearer <token>, or open any page once with ?token=<token>.");
    }

    private static async Task RefuseAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        await DashboardResults.WriteErrorAsync(context.Response, message);
    }

    private static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>No Origin header (not a browser's cross-origin request), or one naming this very host and port.</summary>
    private static bool SameOrigin(HttpRequest request) =>
        request.Headers.Origin.ToString() is not { Length: > 0 } origin
        || (Uri.TryCreate(origin, UriKind.Absolute, out var uri) && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));

    private bool Matches(string? candidate) =>
        _token is not null && candidate is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _token);
}

/// <summary>The body of every error the API returns.</summary>
internal sealed record ApiError(string Error);
