using System.Buffers;
using P2PRegistry.Agent.Cache;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Distribution;

namespace P2PRegistry.Agent.Registry;

internal sealed partial class MirrorHandler
{
    /// <summary>
    /// Serves a cached blob not verified since this start, piece by piece: each piece is read whole and checked
    /// against the MetaInfo on its first read before any byte of it is sent (<see cref="CacheVerifier"/>). The first
    /// piece is checked before the response starts: when it is corrupt the response is cleared and false returned (the
    /// blob left the cache; the caller fetches it again). A corrupt piece found later aborts the response, so the client
    /// never takes it for the blob's end and retries. True when the request was answered (or aborted).
    /// </summary>
    private async Task<bool> SendUnverifiedAsync(HttpContext context, BlobCache.Lease lease, bool head)
    {
        if (_verifier.ChecksFor(lease) is not { } checks)
        {
            return false;
        }

        var (offset, count) = RegistryResponses.WriteBlobHeaders(context, lease.Digest, lease.Length);
        if (head || count <= 0)
        {
            return true;
        }

        Microsoft.Win32.SafeHandles.SafeFileHandle file;
        try
        {
            file = File.OpenHandle(lease.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            // Found corrupt and removed by another reader between the lease and here.
            ResetResponse(context);
            return false;
        }

        var metaInfo = checks.MetaInfo;
        var end = offset + count;
        var piece = (int)(offset / metaInfo.PieceLength);
        var buffer = ArrayPool<byte>.Shared.Rent(metaInfo.PieceLength);
        try
        {
            using (file)
            {
                if (!_verifier.ReadPiece(lease, checks, file, piece, buffer))
                {
                    ResetResponse(context);
                    return false;
                }

                var body = context.Response.Body;
                while (true)
                {
                    var pieceOffset = metaInfo.GetPieceOffset(piece);
                    var start = (int)(offset - pieceOffset);
                    var length = (int)(Math.Min(end, pieceOffset + metaInfo.GetPieceSize(piece)) - offset);
                    await body.WriteAsync(buffer.AsMemory(start, length), context.RequestAborted).ConfigureAwait(false);
                    _metrics.BytesServed(length);
                    offset += length;
                    if (offset >= end)
                    {
                        return true;
                    }

                    piece++;
                    if (!_verifier.ReadPiece(lease, checks, file, piece, buffer))
                    {
                        AgentLog.StreamAborted(_logger, lease.Digest.Value, $"piece {piece} of the cached blob failed its SHA-1 after the response started");
                        context.Abort();
                        return true;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Takes back the headers of a response that has not started, for the miss path to answer instead.</summary>
    private static void ResetResponse(HttpContext context)
    {
        context.Response.Clear();
        context.Response.Headers[RegistryHeaders.ApiVersion] = "registry/2.0";
    }
}
