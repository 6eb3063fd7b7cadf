using Microsoft.Extensions.Hosting;

namespace Parley.Hosting;

/// <summary>
/// Stops the Socket.IO server with the host: disconnects every socket (<c>server shutting down</c>) and stops the
/// adapters, awaited. It runs in <see cref="StoppingAsync"/>, before any hosted service's StopAsync: Kestrel's
/// comes first among those (WebApplicationBuilder registers it last) and would wait out its shutdown timeout for
/// the WebSockets and long polls still open. An ApplicationStopping callback, the other early hook, would have to
/// block its thread on the asynchronous stop of the adapters.
/// </summary>
internal sealed class ParleyHostedService(ParleyServer server) : IHostedLifecycleService
{
    public Task StoppingAsync(CancellationToken cancellationToken) => server.DisposeAsync().AsTask().WaitAsync(cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
