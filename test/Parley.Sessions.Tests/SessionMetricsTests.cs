using Microsoft.Extensions.DependencyInjection;
using Parley.Sessions.Diagnostics;
using Parley.Testing;

namespace Parley.Sessions.Tests;

/// <summary>
/// The <c>Parley.Sessions</c> meter over real HTTP: every store call the session layer makes (as the store itself
/// saw it) is counted once, by operation and outcome, with its latency.
/// </summary>
public sealed class SessionMetricsTests
{
    private const string Operations = "parley.sessions.store.operations";
    private const string Duration = "parley.sessions.store.duration";

    [Fact]
    public async Task Each_store_call_of_a_login_visit_logout_is_counted_with_its_latency()
    {
        await using var app = await SessionApp.StartAsync();
        using var metrics = new MetricRecorder(app.Host.Services.GetRequiredService<SessionMetrics>().Meter);

        var login = await app.PostAsync("/inc");                      // set
        await app.GetAsync("/peek", login.CookiePair);                // get, touch
        await app.PostAsync("/destroy", login.CookiePair);            // get, destroy
        Assert.StartsWith("True|0|", (await app.GetAsync("/peek", login.CookiePair)).Body, StringComparison.Ordinal); // get: not found

        Assert.Equal(1, metrics.Sum(Operations, ("parley.session.operation", "set"), ("parley.session.outcome", "ok")));
        Assert.Equal(2, metrics.Sum(Operations, ("parley.session.operation", "get"), ("parley.session.outcome", "ok")));
        Assert.Equal(1, metrics.Sum(Operations, ("parley.session.operation", "get"), ("parley.session.outcome", "not_found")));
        Assert.Equal(1, metrics.Sum(Operations, ("parley.session.operation", "touch"), ("parley.session.outcome", "ok")));
        Assert.Equal(1, metrics.Sum(Operations, ("parley.session.operation", "destroy"), ("parley.session.outcome", "ok")));
        foreach (var op in new[] { "get", "set", "touch", "destroy" })
        {
            Assert.Equal(app.Store.OpNames.Count(n => n == op), metrics.Sum(Operations, ("parley.session.operation", op)));
            Assert.Equal(metrics.Sum(Operations, ("parley.session.operation", op)), metrics.Count(Duration, ("parley.session.operation", op)));
        }
        Assert.All(metrics.Values(Duration), seconds => Assert.InRange(seconds, 0, TestTimeouts.Default.TotalSeconds));
        Assert.Equal(new[] { Duration, Operations }.Order(), metrics.Instruments.Order());
    }
}
