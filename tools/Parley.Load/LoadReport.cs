using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace Parley.Load;

/// <summary>The end of a run: a table on the console, JSON, and a latency-over-time chart (one HTML file with SVG).</summary>
internal static class LoadReport
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void WriteTable(IAnsiConsole console, LoadResult r)
    {
        var table = new Table().Title($"{r.Scenario} ({r.Transport}) against {Markup.Escape(r.Url)}").AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        var inv = CultureInfo.InvariantCulture;
        Row("connections", $"{r.Connected} of {r.ConnectionsAsked}");
        Row(r.Operation, r.Operations.ToString(inv));
        Row($"{r.Operation} per second", r.PerSecond.ToString("F0", inv));
        Row("latency p50 / p90 / p99 / max (ms)", string.Create(inv, $"{r.P50Ms:F1} / {r.P90Ms:F1} / {r.P99Ms:F1} / {r.MaxMs:F1}"));
        if (r.Scenario == "fanout")
        {
            Row("sent / acked", $"{r.Sent} / {r.Acked}");
        }
        if (r.ServerCpuSeconds is { } cpu)
        {
            Row(r.Idle ? $"server CPU seconds, idle for {r.HoldSeconds:F0} s" : "server CPU seconds", cpu.ToString("F2", inv));
        }
        if (r.PerServerCpuSecond is { } perCpu)
        {
            Row($"{r.Operation} per server-CPU-second", perCpu.ToString("F0", inv));
        }
        if (r.ServerRssBefore is { } before && r.ServerRssAfter is { } after)
        {
            Row("server RSS before / with clients (MB)", string.Create(inv, $"{before / 1048576.0:F1} / {after / 1048576.0:F1}"));
        }
        if (r.RssPerConnection is { } per)
        {
            Row("server RSS per connection (KB)", (per / 1024).ToString("F1", inv));
        }
        Row("disconnects", r.Disconnects.ToString(inv));
        Row("errors", r.ErrorCount.ToString(inv));
        foreach (var (kind, count) in r.Errors.OrderByDescending(e => e.Value).Take(8))
        {
            Row("  " + kind, count.ToString(inv));
        }
        console.Write(table);
    }

    public static async Task WriteJsonAsync(string path, LoadResult r)
    {
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, r, Json);
    }

    /// <summary>An HTML page with an inline SVG: p50, p99 and max latency per second, and operations per second.</summary>
    public static async Task WriteChartAsync(string path, LoadResult r)
    {
        const int W = 900, H = 320, L = 60, R = 60, T = 20, B = 40;
        var pts = r.Timeline;
        var tMax = Math.Max(1, pts.Count > 0 ? pts[^1].T : 1);
        var msMax = Math.Max(1, pts.Count > 0 ? pts.Max(p => p.MaxMs) : 1);
        var opsMax = Math.Max(1, pts.Count > 0 ? pts.Max(p => p.Operations) : 1);
        var inv = CultureInfo.InvariantCulture;
        string X(double t) => (L + ((W - L - R) * t / tMax)).ToString("F1", inv);
        string Y(double v, double max) => (H - B - ((H - T - B) * v / max)).ToString("F1", inv);
        string Line(Func<LoadSample, double> value, double max, string color, string dash = "") =>
            $"<polyline fill='none' stroke='{color}' stroke-width='1.5' {dash} points='{string.Join(' ', pts.Select(p => X(p.T) + "," + Y(value(p), max)))}'/>";
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' font-family='sans-serif' font-size='11'>");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1='{L}' y1='{H - B}' x2='{W - R}' y2='{H - B}' stroke='#888'/><line x1='{L}' y1='{T}' x2='{L}' y2='{H - B}' stroke='#888'/>");
        for (var i = 0; i <= 4; i++)
        {
            var y = Y(msMax * i / 4, msMax);
            svg.Append(CultureInfo.InvariantCulture, $"<text x='{L - 5}' y='{y}' text-anchor='end'>{msMax * i / 4:F0} ms</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x='{W - R + 5}' y='{y}'>{opsMax * i / 4:F0}/s</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x='{X(tMax * i / 4)}' y='{H - B + 15}' text-anchor='middle'>{tMax * i / 4:F0} s</text>");
        }
        svg.Append(Line(p => p.Operations, opsMax, "#bbb", "stroke-dasharray='4 3'"));
        svg.Append(Line(p => p.MaxMs, msMax, "#d62728"));
        svg.Append(Line(p => p.P99Ms, msMax, "#ff7f0e"));
        svg.Append(Line(p => p.P50Ms, msMax, "#1f77b4"));
        svg.Append("</svg>");
        var title = WebUtility.HtmlEncode($"parley-load {r.Scenario} ({r.Transport}) against {r.Url}");
        var html = $"""
            <!doctype html>
            <html><head><meta charset="utf-8"><title>{title}</title></head>
            <body style="font-family:sans-serif">
            <h3>{title}</h3>
            <p>{WebUtility.HtmlEncode(r.Operation)} latency per second: <b style="color:#1f77b4">p50</b>, <b style="color:#ff7f0e">p99</b>,
            <b style="color:#d62728">max</b> (left axis); <span style="color:#999">{WebUtility.HtmlEncode(r.Operation)} per second, dashed</span> (right axis).
            Whole run: p50 {r.P50Ms.ToString("F1", inv)} ms, p99 {r.P99Ms.ToString("F1", inv)} ms, max {r.MaxMs.ToString("F1", inv)} ms, {r.ErrorCount} errors.</p>
            {svg}
            </body></html>
            """;
        await File.WriteAllTextAsync(path, html);
    }
}
