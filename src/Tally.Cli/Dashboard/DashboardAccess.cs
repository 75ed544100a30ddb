using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Tally.Cli.Dashboard;

/// <summary>
/// Who may use the dashboard: requests from this machine (a loopback address) always; others only with the access token, as
/// <c>Authorization: Bearer &lt;token&gt;</c> or the cookie that visiting any page with <c>?token=&lt;token&gt;</c> sets. Without a
/// token configured the server only binds loopback (see <see cref="DashboardOptions.Resolve"/>), and any other request is refused.
/// </summary>
internal sealed class DashboardAccess(DashboardOptions options)
{
    private readonly byte[]? _token = options.Token is { } t ? Encoding.UTF8.GetBytes(t) : null;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
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
        await context.Response.WriteAsJsonAsync(new ApiError(_token is null
            ? "The dashboard only answers requests from this machine."
            : "This request needs the dashboard's access token: Authorization: Bearer <token>, or open any page once with ?token=<token>."));
    }

    private bool Matches(string? candidate) =>
        _token is not null && candidate is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _token);
}

/// <summary>The body of every error the API returns.</summary>
internal sealed record ApiError(string Error);
