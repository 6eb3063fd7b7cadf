using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Parley.Redis;

/// <summary>
/// Reports <see cref="RedisAdapterStatus.IsReady"/>: healthy when this node reaches the cluster through Redis, the
/// registration's failure status otherwise. Added with <c>services.AddHealthChecks().AddParleyRedis()</c>.
/// <para>
/// Choose the failure status with care: a node without Redis still serves its own clients, so
/// <see cref="HealthStatus.Degraded"/> keeps it in a load balancer while <see cref="HealthStatus.Unhealthy"/>
/// (the default) takes it out.
/// </para>
/// </summary>
public sealed class RedisAdapterHealthCheck(RedisAdapterStatus status) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(status.IsReady
            ? HealthCheckResult.Healthy($"connected to {status.Endpoint}")
            : new HealthCheckResult(context.Registration.FailureStatus, $"not connected to {status.Endpoint}: broadcasts reach this node's sockets only"));
    }
}
