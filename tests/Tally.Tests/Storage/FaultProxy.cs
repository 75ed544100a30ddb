using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tally.Tests.Storage;

/// <summary>What <see cref="FaultProxy"/> does to a request.</summary>
public enum Fault
{
    None,
    /// <summary>Answers 503 SlowDown, as S3 does when throttling.</summary>
    SlowDown,
    /// <summary>Resets the connection before answering.</summary>
    Reset,
    /// <summary>Answers nothing until the client gives up (or <see cref="FaultProxy.StallFor"/> passes).</summary>
    Stall,
    /// <summary>Forwards the request, then drops the connection half-way through the response body.</summary>
    CutBody,
}

/// <summary>
/// An HTTP proxy on 127.0.0.1 (Kestrel) in front of an S3 server that injects faults: a share of requests is answered 503,
/// reset, stalled, or cut half-way through the body. The same request (method, path, query, range) is faulted at most
/// <see cref="MaxFaultsPerRequest"/> times, so a client that retries always gets through. Or, with <see cref="ErrorCode"/>,
/// every request is answered with that S3 error. Stops when disposed; stalls end then too.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _forward = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None });
    private readonly Uri _target;
    private readonly Random _random;
    private readonly Dictionary<string, int> _faultsByRequest = [];
    private readonly Dictionary<Fault, int> _counts = [];
    private readonly Lock _lock = new();
    private readonly List<string> _requests = [];

    private FaultProxy(Uri target, int seed)
    {
        _target = target;
        _random = new Random(seed);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    /// <summary>Shares (0..1) of requests given each fault; the rest is forwarded unchanged.</summary>
    public double SlowDownShare { get; init; }
    public double ResetShare { get; init; }
    public double StallShare { get; init; }
    public double CutBodyShare { get; init; }
    public int MaxFaultsPerRequest { get; init; } = 2;
    public TimeSpan StallFor { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>When set, every request is answered with this S3 error code and <see cref="ErrorStatus"/>.</summary>
    public string? ErrorCode { get; set; }
    public int ErrorStatus { get; set; } = 403;

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>How many requests got each fault so far.</summary>
    public IReadOnlyDictionary<Fault, int> Counts
    {
        get
        {
            lock (_lock) return new Dictionary<Fault, int>(_counts);
        }
    }

    /// <summary>Every request so far, as "METHOD path?query".</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_lock) return _requests.ToList();
        }
    }

    public static async Task<FaultProxy> StartAsync(Uri target, int seed = 1, Func<FaultProxy>? configure = null)
    {
        var proxy = configure?.Invoke() ?? new FaultProxy(target, seed);
        await proxy._app.StartAsync();
        proxy.Endpoint = new Uri(proxy._app.Urls.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal));
        return proxy;
    }

    /// <summary>A proxy to <paramref name="target"/> with the given shares, started.</summary>
    public static Task<FaultProxy> StartAsync(Uri target, int seed, double slowDown, double reset, double stall, double cutBody, TimeSpan stallFor) =>
        StartAsync(target, seed, () => new FaultProxy(target, seed)
        {
            SlowDownShare = slowDown, ResetShare = reset, StallShare = stall, CutBodyShare = cutBody, StallFor = stallFor,
        });

    private Fault Choose(HttpRequest request)
    {
        var id = $"{request.Method} {request.Path}{request.QueryString} {request.Headers.Range}";
        lock (_lock)
        {
            _requests.Add($"{request.Method} {request.Path}{request.QueryString}");
            var roll = _random.NextDouble();
            var fault = roll < SlowDownShare ? Fault.SlowDown
                : roll < SlowDownShare + ResetShare ? Fault.Reset
                : roll < SlowDownShare + ResetShare + StallShare ? Fault.Stall
                : roll < SlowDownShare + ResetShare + StallShare + CutBodyShare && request.Method == "GET" ? Fault.CutBody
                : Fault.None;
            if (fault != Fault.None)
            {
                var count = _faultsByRequest.GetValueOrDefault(id);
                if (count >= MaxFaultsPerRequest) fault = Fault.None;
                else _faultsByRequest[id] = count + 1;
            }
            _counts[fault] = _counts.GetValueOrDefault(fault) + 1;
            return fault;
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (ErrorCode is { } code)
        {
            await WriteErrorAsync(context, ErrorStatus, code, "Injected by the test proxy.");
            return;
        }
        var fault = Choose(context.Request);
        switch (fault)
        {
            case Fault.SlowDown:
                await WriteErrorAsync(context, 503, "SlowDown", "Please reduce your request rate.");
                return;
            case Fault.Reset:
                context.Abort();
                return;
            case Fault.Stall:
                try
                {
                    await Task.Delay(StallFor, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }
                context.Abort();
                return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_target, context.Request.Path.ToUriComponent() + context.Request.QueryString));
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
        }
        foreach (var (name, values) in context.Request.Headers)
        {
            if (name is "Host" or "Connection" or "Transfer-Encoding" or "Expect" or "Content-Length") continue;
            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values)) request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
        if (request.Content is not null && context.Request.ContentLength is { } length) request.Content.Headers.ContentLength = length;
        request.Headers.Host = context.Request.Host.Value;

        using var response = await _forward.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (name is "Transfer-Encoding" or "Connection") continue;
            context.Response.Headers[name] = values.ToArray();
        }
        await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        if (fault == Fault.CutBody && response.Content.Headers.ContentLength is > 1 and var total)
        {
            var half = new byte[total / 2];
            await body.ReadExactlyAsync(half, context.RequestAborted);
            await context.Response.Body.WriteAsync(half, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            context.Abort();
            return;
        }
        await body.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/xml";
        return context.Response.WriteAsync(
            $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>test</RequestId></Error>");
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
        _forward.Dispose();
    }
}
