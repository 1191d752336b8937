using System.Buffers;
using System.Net;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Swarm.Sessions;

// What the peer sends: parsed in place from the pipe's buffer by the Core codec, acted on, then consumed.
internal sealed partial class PeerSession
{
    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        var input = _transport.Input;
        var maxFrame = _context.Options.MaxFrameLength;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            long accepted = 0;
            var consumed = false;
            try
            {
                while (PeerMessageReader.TryRead(ref buffer, maxFrame, out var message) == OperationStatus.Done)
                {
                    consumed = true;
                    accepted += Handle(message);
                }
            }
            finally
            {
                // Block slices point into the buffer: consumed only after they were copied.
                input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (consumed)
            {
                Volatile.Write(ref _lastReceivedAt, _context.Time.GetTimestamp());
            }

            if (accepted > 0)
            {
                Interlocked.Add(ref _bytesSinceTick, accepted);

                // Waiting here stops reading the socket, so TCP slows the sender: the ingress limit.
                await _context.Ingress.TakeAsync((int)accepted, cancellationToken).ConfigureAwait(false);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    private int Handle(in PeerMessage message)
    {
        switch (message.Type)
        {
            case PeerMessageType.Choke:
                lock (_swarm.Sync)
                {
                    OnChokedLocked();
                }

                break;

            case PeerMessageType.Unchoke:
                lock (_swarm.Sync)
                {
                    OnUnchokedLocked();
                }

                break;

            case PeerMessageType.Interested:
                _swarm.OnInterested(this);
                break;

            case PeerMessageType.NotInterested:
                _swarm.OnNotInterested(this);
                break;

            case PeerMessageType.Have:
                OnHave(message.Index);
                break;

            case PeerMessageType.Bitfield:
                OnBitfield(message.Bits);
                break;

            case PeerMessageType.Request:
                OnRequest(message.Index, message.Begin, message.Length);
                break;

            case PeerMessageType.Cancel:
                lock (_cancelledByPeer)
                {
                    _cancelledByPeer.Add((message.Index, message.Begin));
                }

                break;

            case PeerMessageType.Piece:
                CheckPieceIndex(message.Index, message.Type);
                return _swarm.OnBlock(this, message.Index, message.Begin, message.Block);

            case PeerMessageType.Extended when message.ExtensionId == ExtensionHandshake.HandshakeExtensionId:
                OnExtensionHandshake(message.ExtendedPayload);
                break;

            default:
                // Keep-alive, other BEP 10 extended messages and ids we do not implement: nothing to do.
                break;
        }

        return 0;
    }

    private void OnExtensionHandshake(ReadOnlySequence<byte> payload)
    {
        var handshake = ExtensionHandshake.Decode(payload);
        if (handshake.Port is { } port && RemoteEndPoint is IPEndPoint remote)
        {
            AdvertisedEndPoint = new IPEndPoint(remote.Address, port);
        }
    }

    private void OnHave(int piece)
    {
        CheckPieceIndex(piece, PeerMessageType.Have);
        lock (_swarm.Sync)
        {
            if (!PeerPieces.Set(piece))
            {
                return;
            }

            _swarm.Picker?.AddAvailability(piece, IsUnserved);
            _swarm.OnPeerHaveLocked(this, piece);
            if (_swarm.Picker is not { } picker || !_swarm.IsDownloading || picker.Has(piece))
            {
                // Nothing new to ask this peer for: every peer's have of every piece lands here.
                return;
            }

            if (!AmInterested)
            {
                AmInterested = true;
                Enqueue(new Outbound(OutboundKind.Interested));
            }

            FillRequestsLocked();
        }
    }

    /// <remarks>
    /// BEP 3 wants the bitfield as the first message, but aria2c sends its extension handshake and
    /// <c>interested</c> first, and its bitfield only once it has a piece. A later bitfield therefore
    /// replaces what the peer was known to have.
    /// </remarks>
    private void OnBitfield(ReadOnlySequence<byte> bits)
    {
        bool bothComplete;
        lock (_swarm.Sync)
        {
            _swarm.Picker?.RemoveAvailability(PeerPieces, IsUnserved);
            _swarm.BeforePeerBitfieldLocked(this);
            if (!PeerPieces.TryReadFrom(bits, out var error))
            {
                throw PeerProtocolException.InvalidBitfield(error ?? "malformed");
            }

            _swarm.Picker?.AddAvailability(PeerPieces, IsUnserved);
            _swarm.AfterPeerBitfieldLocked(this);
            UpdateInterestLocked();
            FillRequestsLocked();
            bothComplete = _swarm.IsComplete && PeerPieces.AllSet;
        }

        if (bothComplete)
        {
            Close("both sides complete");
        }
    }

    private void OnRequest(int piece, int begin, int length)
    {
        CheckPieceIndex(piece, PeerMessageType.Request);
        var size = _swarm.MetaInfo.GetPieceSize(piece);
        if (begin < 0 || (long)begin + length > size)
        {
            throw new PeerProtocolException($"Request {piece}/{begin}+{length} is outside the piece of {size} bytes.");
        }

        // BEP 3: requests from a choked peer are discarded; requests for pieces we lack are ignored.
        if (AmChoking || !_swarm.Store.HasPiece(piece))
        {
            return;
        }

        if (Interlocked.Increment(ref _queuedPieces) > _context.Options.MaxQueuedRequestsPerPeer)
        {
            Interlocked.Decrement(ref _queuedPieces);
            return;
        }

        lock (_cancelledByPeer)
        {
            _cancelledByPeer.Remove((piece, begin));
        }

        Enqueue(new Outbound(OutboundKind.Piece, piece, begin, length));
    }

    private void CheckPieceIndex(int piece, PeerMessageType type)
    {
        if ((uint)piece >= (uint)_swarm.MetaInfo.PieceCount)
        {
            throw new PeerProtocolException($"{type} for piece {piece}; the blob has {_swarm.MetaInfo.PieceCount}.");
        }
    }
}
