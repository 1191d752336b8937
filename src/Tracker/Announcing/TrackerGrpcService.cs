using System.Net;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Grpc.Core;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Hosting.Security;
using P2PRegistry.Tracker.MetaInfos;
using P2PRegistry.Tracker.Peers;
using AnnounceEventDto = P2PRegistry.Contracts.Tracker.AnnounceEvent;
using PeerRoleDto = P2PRegistry.Contracts.Tracker.PeerRole;

namespace P2PRegistry.Tracker.Announcing;

/// <summary>The gRPC face of the tracker (proto/tracker.proto) for our own agents and origins.</summary>
internal sealed class TrackerGrpcService(AnnounceService announcer, MetaInfoService metaInfos, ComponentTls tls) : Contracts.Tracker.Tracker.TrackerBase
{
    public override async Task<AnnounceResponse> Announce(AnnounceRequest request, ServerCallContext context)
    {
        var command = ToCommand(request, context, tls.RequireClientCertificate);

        // The digest is optional, but when given and its metainfo is known, the two must name the same swarm:
        // a peer announcing a blob under another blob's info hash would be handed to the wrong downloaders.
        if (request.Digest.Length != 0)
        {
            if (!Digest.TryParse(request.Digest, out var digest))
            {
                throw Invalid($"digest '{Truncate(request.Digest)}' is malformed; expected sha256:<64 lowercase hex>.");
            }

            if (metaInfos.TryGetCached(digest, out var metaInfo) && metaInfo.InfoHash != command.InfoHash)
            {
                throw Invalid($"info_hash {command.InfoHash} is not the info hash {metaInfo.InfoHash} of {digest}.");
            }
        }
        var result = await announcer.AnnounceAsync(command, "grpc", context.CancellationToken).ConfigureAwait(false);

        var response = new AnnounceResponse
        {
            IntervalSeconds = Seconds(result.Interval),
            MinIntervalSeconds = Seconds(result.MinInterval),
        };
        foreach (var peer in result.Peers)
        {
            response.Peers.Add(new Contracts.Tracker.Peer
            {
                PeerId = ByteString.CopyFrom(peer.Id.ToArray()),
                Ip = peer.Address.ToString(),
                Port = peer.Port,
                Complete = peer.Complete,
                Role = peer.Role == Peers.PeerRole.Origin ? PeerRoleDto.Origin : PeerRoleDto.Agent,
            });
        }

        return response;
    }

    public override async Task<GetMetaInfoResponse> GetMetaInfo(GetMetaInfoRequest request, ServerCallContext context)
    {
        if (!Digest.TryParse(request.Digest, out var digest))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"Malformed digest '{Truncate(request.Digest)}'; expected sha256:<64 lowercase hex>."));
        }

        try
        {
            var metaInfo = await metaInfos.GetAsync(digest, request.Ns, context.CancellationToken).ConfigureAwait(false);
            return new GetMetaInfoResponse
            {
                Info = ByteString.CopyFrom(metaInfo.Encoded.Span),
                InfoHash = ByteString.CopyFrom(metaInfo.InfoHash.ToArray()),
            };
        }
        catch (MetaInfoException ex)
        {
            var code = ex.Failure switch
            {
                MetaInfoFailure.NotFound => StatusCode.NotFound,
                MetaInfoFailure.Unavailable => StatusCode.Unavailable,
                _ => StatusCode.Internal,
            };
            throw new RpcException(new Status(code, ex.Message));
        }
    }

    private static AnnounceCommand ToCommand(AnnounceRequest request, ServerCallContext context, bool mutualTls)
    {
        if (request.InfoHash.Length != InfoHash.Length)
        {
            throw Invalid($"info_hash must be {InfoHash.Length} bytes, got {request.InfoHash.Length}.");
        }

        if (request.PeerId.Length != PeerId.Length)
        {
            throw Invalid($"peer_id must be {PeerId.Length} bytes, got {request.PeerId.Length}.");
        }

        if (request.Port is < 1 or > 65535)
        {
            throw Invalid($"port must be 1..65535, got {request.Port}.");
        }

        if (request.BytesLeft < 0 || request.NumWant < 0)
        {
            throw Invalid("bytes_left and num_want must not be negative.");
        }

        IPAddress? address;
        if (string.IsNullOrEmpty(request.Ip))
        {
            address = context.GetHttpContext().Connection.RemoteIpAddress
                ?? throw Invalid("ip is empty and the caller's address is unknown.");
        }
        else if (!IPAddress.TryParse(request.Ip, out address))
        {
            throw Invalid($"ip '{Truncate(request.Ip)}' is not a literal IP address.");
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var role = EffectiveRole(
            request.Role == PeerRoleDto.Origin ? Peers.PeerRole.Origin : Peers.PeerRole.Agent,
            context.GetHttpContext().Connection.ClientCertificate,
            mutualTls);
        var announceEvent = request.Event switch
        {
            AnnounceEventDto.Started => Peers.AnnounceEvent.Started,
            AnnounceEventDto.Completed => Peers.AnnounceEvent.Completed,
            AnnounceEventDto.Stopped => Peers.AnnounceEvent.Stopped,
            _ => Peers.AnnounceEvent.None,
        };

        return new AnnounceCommand(
            new InfoHash(request.InfoHash.Span),
            new PeerId(request.PeerId.Span),
            address,
            request.Port,
            role,
            // An origin holds every blob it announces.
            request.Complete || role == Peers.PeerRole.Origin,
            request.BytesLeft,
            announceEvent,
            request.NumWant);
    }

    /// <summary>
    /// Under mutual TLS the origin role is the certificate's to give (a URI SAN <c>urn:p2pregistry:role:origin</c>, see
    /// <see cref="ClusterRoles"/>): an announce that claims it from any other certificate counts as an agent's. Without
    /// mutual TLS the announced role stands.
    /// </summary>
    internal static Peers.PeerRole EffectiveRole(Peers.PeerRole announced, X509Certificate2? clientCertificate, bool mutualTls) =>
        announced == Peers.PeerRole.Origin && mutualTls && ClusterRoles.Of(clientCertificate) != ClusterRole.Origin
            ? Peers.PeerRole.Agent
            : announced;

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));

    private static int Seconds(TimeSpan value) => (int)Math.Max(1, Math.Ceiling(value.TotalSeconds));

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
