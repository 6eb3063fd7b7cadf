namespace Parley.Adapters;

/// <summary>
/// The broadcasts a <see cref="ClusterAdapter"/> delivered on this node while one socket was being restored: from
/// before the transport read the session and the missed packets (<see cref="ParleyAdapter.RestoreSessionAsync"/>)
/// until the socket joined its rooms. A packet published after that read is not among the missed ones, and a socket
/// that has not joined its rooms yet is not among its recipients: without this buffer it would get it neither way.
/// </summary>
/// <remarks>
/// It keeps every non-volatile broadcast of the namespace, not only those for the session's rooms: the rooms are only
/// known once the transport has answered. The packets are shared references, and a restore takes one round trip or a
/// few, so the list stays short; it is bounded by <see cref="ConnectionStateRecoveryOptions.MaxPackets"/> all the same,
/// and a restore whose buffer overflows fails (the client reconnects with a fresh socket).
/// Guarded by the adapter's restore lock.
/// </remarks>
internal sealed class RestoreCapture
{
    private readonly int _limit;
    private List<(BroadcastPacket Packet, BroadcastOptions Options)>? _packets;

    public RestoreCapture(int limit) => _limit = limit;

    public int Limit => _limit;

    /// <summary>More than the limit arrived: the capture no longer holds all of them.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Whether the capture has ended (attached, or given up).</summary>
    public bool Ended { get; set; }

    public IReadOnlyList<(BroadcastPacket Packet, BroadcastOptions Options)> Packets => _packets ?? [];

    public void Add(BroadcastPacket packet, BroadcastOptions options)
    {
        if (Overflowed)
        {
            return;
        }
        var packets = _packets ??= [];
        if (packets.Count >= _limit)
        {
            Overflowed = true;
            _packets = null;
            return;
        }
        packets.Add((packet, options));
    }
}
