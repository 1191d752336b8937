using System.Net;
using Google.Protobuf;
using Grpc.Core;
using P2PRegistry.Contracts.Tracker;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Tracker.Admission;
using P2PRegistry.Tracker.MetaInfos;
using P2PRegistry.Tracker.Peers;
using AnnounceEventDto = P2PRegistry.Contracts.Tracker.AnnounceEvent;
using PeerRoleDto = P2PRegistry.Contracts.Tracker.PeerRole;

namespace P2PRegistry.Tracker.Announcing;

/// <summary>
/// The gRPC face of the tracker (proto/tracker.proto) for our own agents and origins. Bound by
/// <see cref="TrackerGrpcBinding"/> rather than the generated base class: an announce's answer is written from its
/// peers' cached encodings (<see cref="GrpcAnnounceAnswer"/>), the same bytes on the wire as the generated
/// <c>AnnounceResponse</c>.
/// </summary>
internal sealed class TrackerGrpcService(AnnounceService announcer, IAnnouncerAuthority authority, MetaInfoService metaInfos) : TrackerGrpcBinding
{
    public override async Task<GrpcAnnounceAnswer> Announce(AnnounceRequest request, ServerCallContext context)
    {
        var claim = ToClaim(request);

        // The digest is optional, but when given and its metainfo is known, the two must name the same swarm:
        // a peer announcing a blob under another blob's info hash would be handed to the wrong downloaders.
        if (claim.Digest is { } digest && metaInfos.TryGetCached(digest, out var metaInfo) && metaInfo.InfoHash != claim.InfoHash)
        {
            throw Invalid($"info_hash {claim.InfoHash} is not the info hash {metaInfo.InfoHash} of {digest}.");
        }

        var decision = await announcer.AnnounceAsync(claim, authority.Identify(context.GetHttpContext()), "grpc", context.CancellationToken).ConfigureAwait(false);
        if (decision.Refused)
        {
            throw new RpcException(new Status(StatusCodeOf(decision.Refusal), decision.Reason));
        }

        var result = decision.Result;
        return new GrpcAnnounceAnswer(result.Peers, Seconds(result.Interval), Seconds(result.MinInterval));
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

    private static AnnounceClaim ToClaim(AnnounceRequest request)
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

        IPAddress? claimed = null;
        if (!string.IsNullOrEmpty(request.Ip) && !IPAddress.TryParse(request.Ip, out claimed))
        {
            throw Invalid($"ip '{Truncate(request.Ip)}' is not a literal IP address.");
        }

        Digest? digest = null;
        if (request.Digest.Length != 0)
        {
            if (!Digest.TryParse(request.Digest, out var parsed))
            {
                throw Invalid($"digest '{Truncate(request.Digest)}' is malformed; expected sha256:<64 lowercase hex>.");
            }

            digest = parsed;
        }

        var role = request.Role == PeerRoleDto.Origin ? Peers.PeerRole.Origin : Peers.PeerRole.Agent;
        var announceEvent = request.Event switch
        {
            AnnounceEventDto.Started => Peers.AnnounceEvent.Started,
            AnnounceEventDto.Completed => Peers.AnnounceEvent.Completed,
            AnnounceEventDto.Stopped => Peers.AnnounceEvent.Stopped,
            _ => Peers.AnnounceEvent.None,
        };

        return new AnnounceClaim(
            new InfoHash(request.InfoHash.Span),
            new PeerId(request.PeerId.Span),
            claimed,
            request.Port,
            role,
            request.Complete,
            request.BytesLeft,
            announceEvent,
            request.NumWant,
            digest)
        {
            Locality = PeerLocality.From(request.Zone, request.Rack),
        };
    }

    /// <summary>Refusals as gRPC status codes (proto/tracker.proto lists them).</summary>
    internal static StatusCode StatusCodeOf(AnnounceRefusal refusal) => refusal switch
    {
        AnnounceRefusal.UnknownInfoHash => StatusCode.NotFound,
        AnnounceRefusal.UnroutableAddress or AnnounceRefusal.InvalidLocality => StatusCode.InvalidArgument,
        AnnounceRefusal.StoreUnavailable => StatusCode.Unavailable,
        AnnounceRefusal.AddressQuota or AnnounceRefusal.SwarmAddressQuota or AnnounceRefusal.TooManyPeers => StatusCode.ResourceExhausted,
        _ => StatusCode.PermissionDenied,
    };

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));

    private static int Seconds(TimeSpan value) => (int)Math.Max(1, Math.Ceiling(value.TotalSeconds));

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
