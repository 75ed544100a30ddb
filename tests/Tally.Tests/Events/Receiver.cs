using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tally.Tests.Events;

/// <summary>One request the receiver got: the exact body bytes and the headers that matter.</summary>
public sealed record ReceivedEvent(byte[] Body, string? Signature, string? EventId);

/// <summary>
/// A real HTTP receiver (Kestrel on 127.0.0.1) for webhook deliveries: records every POST to <c>/events</c> and answers
/// <see cref="StatusCode"/>. Port 0 picks a free port; a receiver started on the port of a stopped one plays "back up".
/// </summary>
public sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Receiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedEvent> Received { get; } = new();

    /// <summary>What the receiver answers; 200 by default.</summary>
    public int StatusCode { get; set; } = StatusCodes.Status200OK;

    public Uri Url { get; private set; } = null!;

    public int Port => Url.Port;

    public static async Task<Receiver> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.MapPost("/events", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            receiver.Received.Enqueue(new ReceivedEvent(body.ToArray(), request.Headers["X-Tally-Signature"], request.Headers["X-Tally-Event-Id"]));
            return Results.StatusCode(receiver.StatusCode);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.Url = new Uri(new Uri(address), "/events");
        return receiver;
    }

    public async Task StopAsync() => await _app.StopAsync();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
