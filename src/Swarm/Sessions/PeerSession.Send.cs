using System.Collections.Concurrent;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Sessions;

// The only writer of the pipe: writes what the owner queued, then serves the blocks the owner hands out, reading
// each from the store straight into the pipe.
internal sealed partial class PeerSession
{
    private const int FlushThreshold = 256 * 1024;
    private readonly ConcurrentQueue<int> _reveals = new();
    private bool _firstWritten;

    /// <summary>
    /// A super-seeding seed shows the peer one more piece: its <c>have</c> goes out ahead of the blocks already
    /// queued (once the first message, the bitfield, is out), so the peer can ask for it while those are still
    /// on their way and the seed's pipeline to it never runs dry. Bounded by the owner (a piece is revealed once).
    /// </summary>
    public void SendRevealAhead(int piece)
    {
        _reveals.Enqueue(piece);
        WakeSender();
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
        BlockRequest? sent = null;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (true)
            {
                // Messages first (a have, a choke, our requests), then one block, then look again. The wake flag is
                // cleared only as its Wake is read: a wake after that writes a new Wake, so nothing queued waits unseen.
                while (reader.TryRead(out var message))
                {
                    Interlocked.Decrement(ref _queued);
                    WriteReveals();
                    if (message.Kind == OutboundKind.Wake)
                    {
                        Volatile.Write(ref _wakePending, 0);
                    }
                    else
                    {
                        Write(message);
                        _firstWritten = true;
                    }
                }

                WriteReveals();
                if (!_firstWritten || !_owner.TryTakeUpload(this, sent, out var block))
                {
                    WriteReveals();
                    sent = null;
                    break;
                }

                sent = null;
                await WriteBlockAsync(block, cancellationToken).ConfigureAwait(false);
                sent = block;
                if (output.CanGetUnflushedBytes && output.UnflushedBytes >= FlushThreshold && !await FlushAsync(output, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }

            if (!await FlushAsync(output, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private async ValueTask<bool> FlushAsync(System.IO.Pipelines.PipeWriter output, CancellationToken cancellationToken)
    {
        var result = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _lastSentAt, _context.Time.GetTimestamp());
        return !result.IsCompleted && !result.IsCanceled;
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
            case OutboundKind.Bitfield:
                PeerMessageWriter.WriteBitfield(output, message.Payload);
                break;
            case OutboundKind.ExtensionHandshake:
                new ExtensionHandshake
                {
                    Client = "P2PRegistry",
                    Port = _context.ListenPort > 0 ? _context.ListenPort : null,
                    RequestQueueLength = _context.Options.MaxQueuedRequestsPerPeer,
                    Zone = _context.Options.Zone.Length > 0 ? _context.Options.Zone : null,
                    LazyHave = !_context.SuperSeed,
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
    /// Reads the block from the store straight into the pipe's memory behind room for its 13-byte header, then writes
    /// the header: the bytes go disk (page cache) → pipe → socket with no copy of our own, and a read that fails
    /// (a short file, a piece that fails its first-read check) leaves nothing half-written in the pipe.
    /// </summary>
    private async ValueTask WriteBlockAsync(BlockRequest block, CancellationToken cancellationToken)
    {
        await _context.Egress.TakeAsync(block.Length, cancellationToken).ConfigureAwait(false);
        var output = _transport.Output;
        var header = PeerMessageWriter.PieceHeaderLength;
        var span = output.GetSpan(header + block.Length)[..(header + block.Length)];
        if (!_owner.ReadBlock(block, span[header..]))
        {
            throw new IOException($"Piece {block.Piece} is shorter on disk than its metainfo says.");
        }

        PeerMessageWriter.WritePieceHeader(span, block.Piece, block.Offset, block.Length);
        output.Advance(header + block.Length);
    }
}
