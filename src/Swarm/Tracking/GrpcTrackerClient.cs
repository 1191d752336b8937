using System.Net;
using Google.Protobuf;
using Grpc.Core;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;
using P2PRegistry.Core.Wire;
using AnnounceEventDto = P2PRegistry.Contracts.Tracker.AnnounceEvent;
using PeerRoleDto = P2PRegistry.Contracts.Tracker.PeerRole;
using TrackerStub = P2PRegistry.Contracts.Tracker.Tracker.TrackerClient;

namespace P2PRegistry.Swarm.Tracking;

/// <summary>
/// Announces to our tracker over gRPC (proto/tracker.proto <c>Announce</c>). Every call carries a deadline, and
/// every failure — refusal, unreachable tracker, deadline, garbage — surfaces as <see cref="TrackerException"/>,
/// which the engine treats as "no peers this time".
/// </summary>
public sealed class GrpcTrackerClient : ITrackerClient
{
    private readonly TrackerStub _client;
    private readonly PeerRoleDto _role;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly TopologyLabels _labels;

    /// <param name="labels">This peer's zone and rack, sent with every announce; null = unknown.</param>
    public GrpcTrackerClient(TrackerStub client, TrackerRole role, TimeSpan timeout, TimeProvider? time = null, TopologyLabels? labels = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _client = client;
        _role = role == TrackerRole.Origin ? PeerRoleDto.Origin : PeerRoleDto.Agent;
        _timeout = timeout;
        _time = time ?? TimeProvider.System;
        _labels = labels ?? TopologyLabels.Unknown;
    }

    public async Task<AnnounceResult> AnnounceAsync(InfoHash infoHash, Digest digest, PeerId peerId, int port, bool complete, long bytesLeft, AnnounceEvent announceEvent, CancellationToken cancellationToken)
    {
        var request = new Contracts.Tracker.AnnounceRequest
        {
            InfoHash = ByteString.CopyFrom(infoHash.ToArray()),
            Digest = digest.Value,
            PeerId = ByteString.CopyFrom(peerId.ToArray()),
            Port = port,
            Role = _role,
            Complete = complete,
            BytesLeft = bytesLeft,
            Zone = _labels.Zone,
            Rack = _labels.Rack,
            Event = announceEvent switch
            {
                AnnounceEvent.Started => AnnounceEventDto.Started,
                AnnounceEvent.Completed => AnnounceEventDto.Completed,
                AnnounceEvent.Stopped => AnnounceEventDto.Stopped,
                _ => AnnounceEventDto.None,
            },
        };

        Contracts.Tracker.AnnounceResponse response;
        try
        {
            response = await _client.AnnounceAsync(request, deadline: _time.GetUtcNow().UtcDateTime + _timeout, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException exception) when (exception.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The announce was cancelled.", exception, cancellationToken);
        }
        catch (RpcException exception)
        {
            var reason = exception.StatusCode == StatusCode.DeadlineExceeded
                ? $"no answer within {_timeout.TotalSeconds:0.###} s"
                : $"{exception.StatusCode}: {exception.Status.Detail}";
            throw new TrackerException($"Tracker refused or failed the announce ({reason}).", exception);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or InvalidOperationException)
        {
            throw new TrackerException($"Tracker could not be reached: {exception.Message}", exception);
        }

        return ToResult(response);
    }

    internal static AnnounceResult ToResult(Contracts.Tracker.AnnounceResponse response)
    {
        var peers = new List<TrackerPeer>(response.Peers.Count);
        foreach (var peer in response.Peers)
        {
            // A peer we cannot dial is skipped, not fatal: the rest of the answer is still useful.
            if (!IPAddress.TryParse(peer.Ip, out var address) || peer.Port is < 1 or > 65535)
            {
                continue;
            }

            var id = peer.PeerId.Length == PeerId.Length ? new PeerId(peer.PeerId.Span) : (PeerId?)null;
            peers.Add(new TrackerPeer(new IPEndPoint(address, peer.Port), id, peer.Role == PeerRoleDto.Origin));
        }

        var interval = response.IntervalSeconds is > 0 and < 86_400 ? TimeSpan.FromSeconds(response.IntervalSeconds) : TimeSpan.FromMinutes(1);
        return new AnnounceResult(peers, interval);
    }
}
