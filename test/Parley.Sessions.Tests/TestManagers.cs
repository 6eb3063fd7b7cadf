using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Testing;

namespace Parley.Sessions.Tests;

internal static class TestManagers
{
    public static ParleySessionManager Create(TimeProvider time, SessionStore? store = null, Action<ParleySessionOptions>? configure = null)
    {
        var options = new ParleySessionOptions();
        options.Secrets.Add("keyboard cat");
        configure?.Invoke(options);
        store ??= new MemorySessionStore(Options.Create(new MemorySessionStoreOptions()), time);
        return new ParleySessionManager(Options.Create(options), store, time, Logger<ParleySessionManager>());
    }

    public static readonly ILoggerFactory LoggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(TestLog.Provider).SetMinimumLevel(LogLevel.Debug));

    public static ILogger<T> Logger<T>() => LoggerFactory.CreateLogger<T>();
}
