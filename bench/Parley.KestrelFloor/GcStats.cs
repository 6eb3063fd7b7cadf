using System.Globalization;

namespace Parley.KestrelFloor;

/// <summary>GET /gc: the GC's view of the heap as one JSON object, for bench/kestrel-floor.sh.</summary>
internal static class GcStats
{
    public static Task WriteAsync(HttpContext context)
    {
        var collected = context.Request.Query["collect"] == "1";
        if (collected)
        {
            // Live bytes: a full blocking compacting collection, finalizers, and another to free what they released.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var json = string.Create(CultureInfo.InvariantCulture,
            $"{{\"collected\":{(collected ? "true" : "false")},\"totalMemory\":{GC.GetTotalMemory(false)},\"heapSize\":{info.HeapSizeBytes},\"fragmented\":{info.FragmentedBytes},\"committed\":{info.TotalCommittedBytes},\"gen0\":{GC.CollectionCount(0)},\"gen2\":{GC.CollectionCount(2)},\"serverGC\":{(System.Runtime.GCSettings.IsServerGC ? "true" : "false")},\"concurrentGC\":{(System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.Batch ? "false" : "true")}}}");
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json);
    }
}
