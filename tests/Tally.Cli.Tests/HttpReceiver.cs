using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Tally.Cli.Tests;

/// <summary>One request the receiver got: the exact body bytes and the headers that matter.</summary>
internal sealed record ReceivedRequest(byte[] Body, string? Signature, string? EventId);

/// <summary>
/// A real HTTP receiver on 127.0.0.1 (the BCL's HttpListener, so that this project's output keeps only the `tally` app's
/// dependencies) recording every POST to <c>/events</c> and answering 200.
/// </summary>
internal sealed class HttpReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    private HttpReceiver(int port)
    {
        Port = port;
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    public static HttpReceiver Start(int port) => new(port);

    /// <summary>A port nothing listens on now (the OS picked it free a moment ago).</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.HttpMethod == "POST" && context.Request.Url?.AbsolutePath == "/events")
            {
                Received.Enqueue(new ReceivedRequest(body.ToArray(), context.Request.Headers["X-Tally-Signature"], context.Request.Headers["X-Tally-Event-Id"]));
                context.Response.StatusCode = 200;
            }
            else
            {
                context.Response.StatusCode = 404;
            }
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
