using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Parley.Diagnostics;
using Parley.Redis;
using Parley.Sessions;
using Parley.Sessions.Diagnostics;

namespace Parley.Chat;

/// <summary>
/// What an operator watches the chat with, as the ASP.NET Core templates set it up: OpenTelemetry metrics (Parley's
/// meters, ASP.NET Core, the runtime) scraped by Prometheus at <c>/metrics</c> and pushed over OTLP when an endpoint
/// is configured; Microsoft.AspNetCore logging at Warning, JSON console logs on a flag; <c>/healthz</c> (liveness,
/// mapped with the chat's HTTP contract) and <c>/readyz</c> (Redis, the session store, PostgreSQL).
/// </summary>
internal static class ChatOperations
{
    /// <summary>The tag of the checks <c>/readyz</c> runs.</summary>
    private const string Ready = "ready";

    /// <summary>How long one readiness check may take before it counts as failed: a hung dependency must not hang the probe.</summary>
    private static readonly TimeSpan s_checkTimeout = TimeSpan.FromSeconds(5);

    public static void AddChatOperations(this WebApplicationBuilder builder, ChatSettings settings, Npgsql.NpgsqlDataSource? postgres)
    {
        // Microsoft.AspNetCore logs at Warning by default: ChatApp.Create sets the templates' levels.
        if (settings.JsonLogs)
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o => o.UseUtcTimestamp = true);
        }

        var otlp = settings.Otlp ?? builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still override this default.
        builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService("parley-chat")).WithMetrics(metrics =>
        {
            metrics.AddMeter(ParleyMetrics.MeterName, RedisMetrics.MeterName, SessionMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter();
            if (!string.IsNullOrEmpty(otlp))
            {
                metrics.AddOtlpExporter(o => o.Endpoint = new Uri(otlp));
            }
        });

        var health = builder.Services.AddHealthChecks();
        health.Add(new HealthCheckRegistration("session-store", sp => new SessionStoreHealthCheck(sp.GetRequiredService<SessionStore>()), HealthStatus.Unhealthy, [Ready], s_checkTimeout));
        if (settings.Redis is not null)
        {
            health.AddParleyRedis("redis", HealthStatus.Unhealthy, [Ready]);
        }
        if (postgres is not null)
        {
            health.Add(new HealthCheckRegistration("postgresql", _ => new PostgresHealthCheck(postgres), HealthStatus.Unhealthy, [Ready], s_checkTimeout));
        }
    }

    public static void MapChatOperations(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(Ready),
            ResponseWriter = WriteJsonAsync,
        });
    }

    /// <summary>
    /// The health report as JSON in the shape health dashboards read (the AspNetCore.Diagnostics.HealthChecks
    /// UIResponseWriter's): <c>{"status","totalDuration","entries":{name:{"data","description","duration","status","tags"}}}</c>.
    /// Exceptions are reported by message only: the probe is public, stack traces are not.
    /// </summary>
    private static async Task WriteJsonAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteString("totalDuration", report.TotalDuration.ToString());
        json.WriteStartObject("entries");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteStartObject("data");
            foreach (var (key, value) in entry.Data)
            {
                json.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
            }
            json.WriteEndObject();
            if ((entry.Description ?? entry.Exception?.Message) is { } description)
            {
                json.WriteString("description", description);
            }
            json.WriteString("duration", entry.Duration.ToString());
            json.WriteString("status", entry.Status.ToString());
            json.WriteStartArray("tags");
            foreach (var tag in entry.Tags)
            {
                json.WriteStringValue(tag);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    /// <summary>Ready when the store says it is and answers a read (a GET in Redis, a SELECT in PostgreSQL).</summary>
    private sealed class SessionStoreHealthCheck(SessionStore store) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!store.IsReady)
            {
                return HealthCheckResult.Unhealthy(store.GetType().Name + " reports its backend unreachable");
            }
            // An id no session has (ids are 32 URL-safe characters): the read costs one round trip and finds nothing.
            await store.GetAsync("readyz-probe", cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy(store.GetType().Name);
        }
    }

    private sealed class PostgresHealthCheck(Npgsql.NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
    }
}
