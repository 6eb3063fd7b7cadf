using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Parley.Adapters;
using Parley.Hosting;
using Parley.Testing;

namespace Parley.Tests.SocketIO;

/// <summary>How the server stops with its host.</summary>
public sealed class HostingTests
{
    /// <summary>An adapter whose stop takes as long as the test wants (a cluster adapter closing its connections).</summary>
    private sealed class GatedAdapter(Namespace nsp, Task gate, TaskCompletionSource disposed) : ParleyAdapter(nsp)
    {
        public override async ValueTask DisposeAsync()
        {
            await gate;
            disposed.TrySetResult();
            await base.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_host_awaits_the_servers_stop_and_no_thread_blocks_on_it()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reasons = new ConcurrentQueue<string>();
        var host = await TestWebHost.StartAsync(
            b =>
            {
                b.Services.AddSingleton(new ParleyAdapterFactory(nsp => new GatedAdapter(nsp, gate.Task, disposed)));
                b.Services.AddParley(ParleyTestHost.FastOptions);
            },
            app => app.MapParley("/socket.io", io => io.OnConnection(s => s.Disconnected += (_, reason) => reasons.Enqueue(reason))));
        try
        {
            await using var driver = NodeDriver.Start();
            var h = await driver.CallForHandleAsync("sio.connect", new { url = host.Url, opts = new { transports = new[] { "websocket" } } });
            await driver.NextEventAsync(h, "connect");

            // StopApplication only signals the stop; it does not wait for the adapters on the caller's thread.
            var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            await Task.Factory.StartNew(lifetime.StopApplication, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                .WithTimeout(TimeSpan.FromSeconds(5));

            // Stopping the host disconnects the sockets first, then waits for the adapters.
            var stop = host.App.StopAsync();
            Assert.Equal("transport close", (await driver.NextEventAsync(h, "disconnect"))!["reason"]!.GetValue<string>());
            Assert.Equal(["server shutting down"], reasons);
            await Task.Delay(200);
            Assert.False(stop.IsCompleted, "the host waits for the adapters to stop");
            gate.SetResult();
            await stop.WithTimeout();
            Assert.True(disposed.Task.IsCompleted);
        }
        finally
        {
            gate.TrySetResult();
            await host.DisposeAsync();
        }
    }
}
