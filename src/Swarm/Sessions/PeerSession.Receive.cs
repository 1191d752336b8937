using System.Buffers;
using System.Net;
using P2PRegistry.Core.Wire;
using P2PRegistry.Swarm.PiecePicking;

namespace P2PRegistry.Swarm.Sessions;

// What the peer sends: parsed in place from the pipe's buffer by the Core codec, checked against the blob's
// bounds, reported to the owner, then consumed.
internal sealed partial class PeerSession
{
    /// <summary>
    /// BEP 10 sends one extension handshake (updates are allowed, rare in practice): a peer that sends more is
    /// closed, and a large one is refused before it is decoded (ours is under 100 bytes, aria2c's a few hundred).
    /// </summary>
    internal const int MaxExtensionHandshakes = 4;

    internal const int MaxExtensionHandshakeLength = 16 * 1024;

    private int _extensionHandshakes;

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
                _owner.OnChoke(this);
                break;

            case PeerMessageType.Unchoke:
                _owner.OnUnchoke(this);
                break;

            case PeerMessageType.Interested:
                _owner.OnInterested(this);
                break;

            case PeerMessageType.NotInterested:
                _owner.OnNotInterested(this);
                break;

            case PeerMessageType.Have:
                CheckPieceIndex(message.Index, message.Type);
                _owner.OnHave(this, message.Index);
                break;

            case PeerMessageType.Bitfield:
                _owner.OnBitfield(this, message.Bits);
                break;

            case PeerMessageType.Request:
                _owner.OnRequest(this, CheckBlock(message.Index, message.Begin, message.Length, message.Type));
                break;

            case PeerMessageType.Cancel:
                _owner.OnCancel(this, CheckBlock(message.Index, message.Begin, message.Length, message.Type));
                break;

            case PeerMessageType.Piece:
                CheckBlock(message.Index, message.Begin, (int)message.Block.Length, message.Type);
                return _owner.OnBlock(this, message.Index, message.Begin, message.Block);

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
        if (++_extensionHandshakes > MaxExtensionHandshakes)
        {
            throw new PeerProtocolException($"More than {MaxExtensionHandshakes} extension handshakes.");
        }

        if (payload.Length > MaxExtensionHandshakeLength)
        {
            throw new PeerProtocolException($"Extension handshake of {payload.Length} bytes; at most {MaxExtensionHandshakeLength}.");
        }

        var handshake = ExtensionHandshake.Decode(payload);
        RemoteLazyHave = handshake.LazyHave;

        // Only the port is taken from the peer; the address is the one the socket sees.
        if (handshake.Port is { } port && RemoteEndPoint is IPEndPoint remote && AdvertisedEndPoint is null)
        {
            AdvertisedEndPoint = new IPEndPoint(remote.Address, port);
            _owner.OnListenPortKnown(this);
        }

        if (handshake.Zone is { Length: > 0 } zone && !string.Equals(zone, RemoteZone, StringComparison.Ordinal))
        {
            RemoteZone = zone;
            _owner.OnZoneKnown(this);
        }
    }

    private void CheckPieceIndex(int piece, PeerMessageType type)
    {
        if ((uint)piece >= (uint)_pieceCount)
        {
            throw new PeerProtocolException($"{type} for piece {piece}; the blob has {_pieceCount}.");
        }
    }

    /// <summary>A request, cancel or block must lie inside its piece, with a length the codec allows.</summary>
    private BlockRequest CheckBlock(int piece, int begin, int length, PeerMessageType type)
    {
        CheckPieceIndex(piece, type);
        var size = _pieceSize(piece);
        if (begin < 0 || length <= 0 || length > PeerMessageReader.MaxBlockLength || (long)begin + length > size)
        {
            throw new PeerProtocolException($"{type} {piece}/{begin}+{length} is outside the piece of {size} bytes.");
        }

        return new BlockRequest(piece, begin, length);
    }
}
