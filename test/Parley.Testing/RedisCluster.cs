using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Parley.Testing;

/// <summary>
/// A real Redis Cluster on loopback: 3 primaries and 3 replicas (<c>redis-server --cluster-enabled yes</c> on free
/// ports, joined by <c>redis-cli --cluster create … --cluster-replicas 1</c>), ready when every node's
/// <c>CLUSTER INFO</c> says <c>cluster_state:ok</c> and knows all six. Slow to start (seconds): share one per test
/// collection (an <c>ICollectionFixture</c> defined in the test assembly, as xunit requires). A short <c>cluster-node-timeout</c> (2 s) lets a replica take over
/// soon after its primary is killed.
/// </summary>
public sealed class RedisCluster : IAsyncLifetime, IRedisDeployment
{
    private const int Size = 6;
    private readonly List<RedisServer> _nodes = [];

    /// <summary>All six servers, in creation order (redis-cli makes the first three primaries).</summary>
    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>The seed list: <c>redis://127.0.0.1:p1,127.0.0.1:p2,…</c> (every node: any of them is enough).</summary>
    public string Url => "redis://" + string.Join(",", _nodes.Select(n => "127.0.0.1:" + n.Port.ToString(CultureInfo.InvariantCulture)));

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        for (var i = 0; i < Size; i++)
        {
            // A replica always counts as recent enough to take over (validity factor 0): one restarted by a
            // failover test a moment before may otherwise refuse to, as "disconnected from master for too long".
            _nodes.Add(await RedisServer.StartAsync("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000", "--cluster-replica-validity-factor", "0"));
        }
        var create = new List<string> { "--cluster", "create" };
        create.AddRange(_nodes.Select(n => "127.0.0.1:" + n.Port.ToString(CultureInfo.InvariantCulture)));
        create.AddRange(["--cluster-replicas", "1", "--cluster-yes"]);
        var output = await RedisCliAsync(_nodes[0].Port, [.. create]);
        if (!output.Contains("[OK] All 16384 slots covered", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("redis-cli --cluster create failed: " + output);
        }
        await WaitUntilHealthyAsync();
    }

    /// <summary>
    /// Every running node says <c>cluster_state:ok</c> and all six agree on who is who, and every replica's link to
    /// its primary is up (a replica still syncing after a restart could not take over yet).
    /// </summary>
    public Task WaitUntilHealthyAsync() =>
        TestTimeouts.Eventually(async () =>
        {
            foreach (var node in _nodes.Where(n => n.IsRunning))
            {
                var info = await node.CliAsync("CLUSTER", "INFO");
                if (!info.Contains("cluster_state:ok", StringComparison.Ordinal) || !info.Contains("cluster_known_nodes:6", StringComparison.Ordinal))
                {
                    return false;
                }
                var replication = await node.CliAsync("INFO", "replication");
                if (replication.Contains("role:slave", StringComparison.Ordinal) && !replication.Contains("master_link_status:up", StringComparison.Ordinal))
                {
                    return false;
                }
            }
            return true;
        }, TimeSpan.FromSeconds(60), "the Redis Cluster reports cluster_state:ok on every node, every replica in sync");

    /// <summary>The node serving <paramref name="slot"/> as primary now (asked of a running node).</summary>
    public async Task<RedisServer> PrimaryOfSlotAsync(int slot)
    {
        var asked = _nodes.First(n => n.IsRunning);
        // CLUSTER SHARDS would be nicer; CLUSTER SLOTS exists on every Redis 7: start, end, then the primary's ip, port, id.
        var lines = (await asked.CliAsync("CLUSTER", "SLOTS")).Split('\n', StringSplitOptions.TrimEntries);
        for (var i = 0; i + 3 < lines.Length; i++)
        {
            if (int.TryParse(lines[i], CultureInfo.InvariantCulture, out var start) && int.TryParse(lines[i + 1], CultureInfo.InvariantCulture, out var end) &&
                lines[i + 2] == "127.0.0.1" && start <= slot && slot <= end && int.TryParse(lines[i + 3], CultureInfo.InvariantCulture, out var port))
            {
                return _nodes.Single(n => n.Port == port);
            }
        }
        throw new InvalidOperationException($"no primary serves slot {slot}");
    }

    /// <summary><c>CLUSTER KEYSLOT key</c>.</summary>
    public async Task<int> SlotOfAsync(string key) =>
        int.Parse(await _nodes.First(n => n.IsRunning).CliAsync("CLUSTER", "KEYSLOT", key), CultureInfo.InvariantCulture);

    /// <summary>The running primaries now (their roles change after a failover).</summary>
    public async Task<IReadOnlyList<RedisServer>> PrimariesAsync()
    {
        var primaries = new List<RedisServer>();
        foreach (var node in _nodes.Where(n => n.IsRunning))
        {
            if ((await node.CliAsync("ROLE")).StartsWith("master", StringComparison.Ordinal))
            {
                primaries.Add(node);
            }
        }
        return primaries;
    }

    /// <inheritdoc />
    public async Task<long> SubscribersAsync(string channel)
    {
        long total = 0;
        foreach (var node in _nodes.Where(n => n.IsRunning))
        {
            total += await node.SubscribersAsync(channel);
        }
        return total;
    }

    /// <inheritdoc />
    public async Task<long> ShardSubscribersAsync(string channel)
    {
        long total = 0;
        foreach (var primary in await PrimariesAsync())
        {
            total += await primary.ShardSubscribersAsync(channel);
        }
        return total;
    }

    /// <summary><c>redis-cli -p port args…</c> (cluster commands that are not per node, such as <c>--cluster</c>).</summary>
    public static async Task<string> RedisCliAsync(int port, params string[] args)
    {
        var psi = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-p");
        psi.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (await output) + (await error);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
