using System.Collections.Concurrent;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm.Sessions;

// The only writer of the pipe: drains the outbox, serves blocks straight from the store into the pipe.
internal sealed partial class PeerSession
{
    private const int FlushThreshold = 256 * 1024;
    private readonly ConcurrentQueue<int> _reveals = new();
    private bool _firstWritten;

    /// <summary>
    /// A super-seeding seed shows the peer one more piece: its <c>have</c> goes out ahead of the blocks already
    /// queued (once the first message, the bitfield, is out), so the peer can ask for it while those are still
    /// on their way and the seed's pipeline to it never runs dry.
    /// </summary>
    public void EnqueueReveal(int piece)
    {
        _reveals.Enqueue(piece);
        _outbox.Writer.TryWrite(new Outbound(OutboundKind.Wake));
    }

    private void WriteReveals()
    {
        while (_firstWritten && _reveals.TryDequeue(out var piece))
        {
            PeerMessageWriter.WriteHave(_transport.Output, piece);
        }
    }

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        var output = _transport.Output;
        var reader = _outbox.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var message))
            {
                WriteReveals();
                if (message.Kind == OutboundKind.Wake)
                {
                    continue;
                }

                if (message.Kind == OutboundKind.Piece)
                {
                    if (!await WriteBlockAsync(message, cancellationToken).ConfigureAwait(false))
                    {
                        continue;
                    }
                }
                else
                {
                    Write(message);
                }

                _firstWritten = true;
                if (output.CanGetUnflushedBytes && output.UnflushedBytes >= FlushThreshold)
                {
                    var flushed = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (flushed.IsCompleted || flushed.IsCanceled)
                    {
                        return;
                    }
                }
            }

            WriteReveals();
            var result = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _lastSentAt, _context.Time.GetTimestamp());
            if (result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    private void Write(Outbound message)
    {
        var output = _transport.Output;
        switch (message.Kind)
        {
            case OutboundKind.KeepAlive:
                PeerMessageWriter.WriteKeepAlive(output);
                break;
            case OutboundKind.Choke:
                PeerMessageWriter.WriteChoke(output);
                break;
            case OutboundKind.Unchoke:
                PeerMessageWriter.WriteUnchoke(output);
                break;
            case OutboundKind.Interested:
                PeerMessageWriter.WriteInterested(output);
                break;
            case OutboundKind.NotInterested:
                PeerMessageWriter.WriteNotInterested(output);
                break;
            case OutboundKind.Have:
                PeerMessageWriter.WriteHave(output, message.Index);
                break;
            case OutboundKind.Bitfield when SuperSeeded:
                PeerMessageWriter.WriteBitfield(output, RevealedBitfield);
                break;
            case OutboundKind.Bitfield:
                PeerMessageWriter.WriteBitfield(output, _swarm.Store.GetBitfield());
                break;
            case OutboundKind.ExtensionHandshake:
                new ExtensionHandshake
                {
                    Client = "P2PRegistry",
                    Port = _context.ListenPort > 0 ? _context.ListenPort : null,
                    RequestQueueLength = _context.Options.MaxQueuedRequestsPerPeer,
                }.WriteMessage(output);
                break;
            case OutboundKind.Request:
                PeerMessageWriter.WriteRequest(output, message.Index, message.Begin, message.Length);
                break;
            case OutboundKind.Cancel:
                PeerMessageWriter.WriteCancel(output, message.Index, message.Begin, message.Length);
                break;
        }
    }

    /// <summary>
    /// Writes the 13-byte piece header, then reads the block from the store directly into the pipe's
    /// memory: the bytes go disk (page cache) → pipe → socket with no copy of our own.
    /// </summary>
    private async ValueTask<bool> WriteBlockAsync(Outbound message, CancellationToken cancellationToken)
    {
        Interlocked.Decrement(ref _queuedPieces);
        lock (_cancelledByPeer)
        {
            if (_cancelledByPeer.Count > 0 && _cancelledByPeer.Remove((message.Index, message.Begin)))
            {
                return false;
            }
        }

        if (AmChoking)
        {
            return false;
        }

        await _context.Egress.TakeAsync(message.Length, cancellationToken).ConfigureAwait(false);
        var output = _transport.Output;
        PeerMessageWriter.WritePieceHeader(output, message.Index, message.Begin, message.Length);
        var span = output.GetSpan(message.Length)[..message.Length];
        if (!_swarm.Store.ReadExactly(message.Index, message.Begin, span))
        {
            throw new IOException($"Piece {message.Index} of {_swarm.MetaInfo.Digest} is shorter on disk than its metainfo says.");
        }

        output.Advance(message.Length);
        _swarm.Statistics.AddUploaded(message.Length);
        _context.Metrics.BytesUploaded(message.Length, IsOrigin);
        if (SuperSeeded)
        {
            _swarm.OnBlockSent(this, message.Index, message.Length);
        }

        return true;
    }
}
