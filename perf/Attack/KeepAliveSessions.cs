using System.Buffers;
using System.Net.Sockets;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Attack;

/// <summary>
/// Many sessions that handshake for one blob and then send nothing but keep-alives: no bitfield, never interested,
/// never a request. Each holds a connection slot (and, on an origin, a seed of the blob) while doing no work.
/// A session the origin refuses or closes is dialled again after <c>reconnectDelay</c>, as a persistent attacker would.
/// </summary>
internal sealed class KeepAliveSessions
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly OriginTarget _target;
    private readonly TimeSpan _keepAliveInterval;
    private readonly TimeSpan _reconnectDelay;
    private readonly TaskCompletionSource _firstAttemptsDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _firstAttemptsLeft;
    private int _open;
    private int _maxOpen;
    private long _connects;
    private long _handshakes;
    private long _refusals;
    private long _closedByOrigin;
    private long _keepAlives;
    private string? _lastRefusal;

    public KeepAliveSessions(OriginTarget target, TimeSpan keepAliveInterval, TimeSpan reconnectDelay)
    {
        _target = target;
        _keepAliveInterval = keepAliveInterval;
        _reconnectDelay = reconnectDelay;
    }

    /// <summary>
    /// Opens <paramref name="sessions"/> sessions, prints a <c>ready</c> line once each has had its first attempt,
    /// keeps them until the token fires, then prints a <c>done</c> line with the counts.
    /// </summary>
    public async Task RunAsync(int sessions, TextWriter output, CancellationToken cancellationToken)
    {
        _firstAttemptsLeft = sessions;
        var tasks = new Task[sessions];
        for (var i = 0; i < sessions; i++)
        {
            tasks[i] = Task.Run(() => RunSessionAsync(cancellationToken), CancellationToken.None);
        }

        try
        {
            await _firstAttemptsDone.Task.WaitAsync(cancellationToken);
            await output.WriteLineAsync($"ready sessions={sessions} open={Volatile.Read(ref _open)} refused={Interlocked.Read(ref _refusals)} last_refusal=\"{_lastRefusal}\"");
            await output.FlushAsync(CancellationToken.None);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(tasks);
        await output.WriteLineAsync(
            $"done open={Volatile.Read(ref _open)} max_open={Volatile.Read(ref _maxOpen)} connects={_connects} handshakes={_handshakes} refused={_refusals} " +
            $"closed_by_origin={_closedByOrigin} keepalives={_keepAlives} last_refusal=\"{_lastRefusal}\"");
        await output.FlushAsync(CancellationToken.None);
    }

    private async Task RunSessionAsync(CancellationToken cancellationToken)
    {
        var first = true;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var (peer, refusal) = await HostilePeer.ConnectAsync(_target, HandshakeTimeout, cancellationToken);
                Interlocked.Increment(ref _connects);
                if (peer is null)
                {
                    Interlocked.Increment(ref _refusals);
                    _lastRefusal = refusal;
                }
                else
                {
                    Interlocked.Increment(ref _handshakes);
                    var open = Interlocked.Increment(ref _open);
                    UpdateMax(open);
                }

                if (first)
                {
                    first = false;
                    if (Interlocked.Decrement(ref _firstAttemptsLeft) == 0)
                    {
                        _firstAttemptsDone.TrySetResult();
                    }
                }

                if (peer is not null)
                {
                    await using (peer)
                    {
                        // A session still open when the attack stops stays counted: the done line reports those.
                        if (await KeepAliveAsync(peer, cancellationToken))
                        {
                            Interlocked.Decrement(ref _open);
                            Interlocked.Increment(ref _closedByOrigin);
                        }
                    }
                }

                await Task.Delay(_reconnectDelay, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Keep-alives until the origin closes (true) or the token fires (false).</summary>
    private async Task<bool> KeepAliveAsync(HostilePeer peer, CancellationToken cancellationToken)
    {
        var keepAlive = new ArrayBufferWriter<byte>(4);
        PeerMessageWriter.WriteKeepAlive(keepAlive);
        var drain = peer.DrainAsync(cancellationToken);
        try
        {
            while (true)
            {
                var tick = Task.Delay(_keepAliveInterval, cancellationToken);
                if (await Task.WhenAny(drain, tick) == drain)
                {
                    return await drain;
                }

                await tick;
                await peer.SendAsync(keepAlive.WrittenMemory, cancellationToken);
                Interlocked.Increment(ref _keepAlives);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private void UpdateMax(int open)
    {
        var max = Volatile.Read(ref _maxOpen);
        while (open > max)
        {
            var seen = Interlocked.CompareExchange(ref _maxOpen, open, max);
            if (seen == max)
            {
                return;
            }

            max = seen;
        }
    }
}
