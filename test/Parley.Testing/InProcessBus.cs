using System.Threading.Channels;
using Parley.Adapters;

namespace Parley.Testing;

/// <summary>
/// A cluster transport inside one process, for tests: the nodes of a test share one bus, and each node's adapter is a
/// <see cref="BusAdapter"/>. It is written against Parley's public adapter contract only (this assembly has no access
/// to Parley's internals), as a third-party transport would be. Messages are copied as JSON + attachments, as a
/// transport over a wire copies them, and delivered in order by one worker per node.
/// </summary>
public sealed class InProcessBus
{
    private readonly Lock _lock = new();
    private BusAdapter[] _members = [];

    /// <summary>The adapter factory of one node (<c>ParleyAdapterFactory</c> or <c>ParleyServer</c>'s).</summary>
    public Func<Namespace, ParleyAdapter> CreateAdapter(ClusterAdapterOptions? options = null) => nsp => new BusAdapter(nsp, this, options);

    /// <summary>Messages dropped on the way (a test sets it to cut the bus).</summary>
    public bool Cut { get; set; }

    internal void Join(BusAdapter adapter)
    {
        lock (_lock)
        {
            _members = [.. _members, adapter];
        }
    }

    internal void Leave(BusAdapter adapter)
    {
        lock (_lock)
        {
            _members = [.. _members.Where(m => m != adapter)];
        }
    }

    internal void Send(BusAdapter from, ClusterMessage message, string? to)
    {
        if (Cut)
        {
            throw new InvalidOperationException("the bus is cut");
        }
        foreach (var member in Volatile.Read(ref _members))
        {
            if (member != from && member.Namespace.Name == from.Namespace.Name && (to is null || member.Uid == to))
            {
                // A copy, as a wire would make: the data's JSON text and the attachments' bytes.
                member.Receive(new ClusterMessage(message.Uid, message.Namespace, message.Type, message.DataJson.ToArray(),
                    message.Attachments.Select(a => (ReadOnlyMemory<byte>)a.ToArray()).ToList()));
            }
        }
    }
}

/// <summary>One node's adapter on an <see cref="InProcessBus"/>: the whole transport is these few lines.</summary>
public sealed class BusAdapter : ClusterAdapterWithHeartbeat
{
    private readonly InProcessBus _bus;
    private readonly Channel<ClusterMessage> _inbox = Channel.CreateUnbounded<ClusterMessage>(new UnboundedChannelOptions { SingleReader = true });
    private Task? _worker;

    /// <summary>Creates the adapter of <paramref name="namespace"/> on <paramref name="bus"/>.</summary>
    public BusAdapter(Namespace @namespace, InProcessBus bus, ClusterAdapterOptions? options)
        : base(@namespace, options) => _bus = bus;

    /// <summary>Joins the bus, then announces itself (heartbeat adapter).</summary>
    public override Task InitAsync()
    {
        _worker ??= Task.Run(async () =>
        {
            await foreach (var message in _inbox.Reader.ReadAllAsync())
            {
                OnMessage(message);
            }
        });
        _bus.Join(this);
        return base.InitAsync();
    }

    internal void Receive(ClusterMessage message) => _inbox.Writer.TryWrite(message);

    /// <inheritdoc />
    protected override Task<string?> PublishAsync(ClusterMessage message)
    {
        _bus.Send(this, message, to: null);
        return Task.FromResult<string?>(null);
    }

    /// <inheritdoc />
    protected override Task PublishResponseAsync(string requesterUid, ClusterMessage response)
    {
        _bus.Send(this, response, requesterUid);
        return Task.CompletedTask;
    }

    /// <summary>Says goodbye (ADAPTER_CLOSE), leaves the bus and stops its worker.</summary>
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _bus.Leave(this);
        _inbox.Writer.TryComplete();
        if (_worker is not null)
        {
            await _worker;
        }
    }
}
