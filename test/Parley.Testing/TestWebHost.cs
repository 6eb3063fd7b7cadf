using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Parley.Testing;

/// <summary>A real Kestrel on 127.0.0.1 with a free port, for end-to-end tests.</summary>
public sealed class TestWebHost : IAsyncDisposable
{
    private TestWebHost(WebApplication app, Uri baseUri)
    {
        App = app;
        BaseUri = baseUri;
    }

    /// <summary>The running application.</summary>
    public WebApplication App { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>The base address as a string without a trailing slash.</summary>
    public string Url => BaseUri.ToString().TrimEnd('/');

    /// <summary>The port Kestrel bound.</summary>
    public int Port => BaseUri.Port;

    /// <summary>The application's services.</summary>
    public IServiceProvider Services => App.Services;

    /// <summary>Builds and starts an app; <paramref name="configureServices"/> and <paramref name="configureApp"/> shape it.</summary>
    public static async Task<TestWebHost> StartAsync(
        Action<WebApplicationBuilder> configureServices,
        Action<WebApplication> configureApp,
        int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(TestLog.Provider);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        configureServices(builder);
        var app = builder.Build();
        configureApp(app);
        await app.StartAsync().WithTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestWebHost(app, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await App.StopAsync().WithTimeout();
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}
