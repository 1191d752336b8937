using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Diagnostics;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Agent.Registry;

// Lazy reads: a Range on a blob not in the cache fetches only the pieces covering it (plus Agent:RangeReadAhead), is
// served as those pieces pass their SHA-1, and does not wait for the rest of the blob. The fetch owns the download;
// a reader only says which pieces it needs.
internal sealed partial class MirrorHandler
{
    /// <summary>
    /// Joins this request to the blob's download. A request with one Range header starts (if none runs) a download of
    /// byte ranges unless <c>Agent:RangeContinuesDownload</c>; any other request is for the whole blob.
    /// </summary>
    private BlobFetch JoinFetch(HttpContext context, Digest digest, string ns, string repository)
    {
        // The same test WriteBlobHeaders makes: several Range headers are answered with the whole blob.
        var range = context.Request.Headers.Range.Count == 1;
        return _fetcher.Join(digest, ns, repository, rangeOnly: range && !_options.RangeContinuesDownload)
            ?? throw FastMiss(digest, ns, $"{_options.MaxRangeDownloads} downloads of byte ranges are open (Agent:MaxRangeDownloads) and each is being read");
    }

    /// <summary>
    /// Tells the download which pieces this reader needs: every piece for a whole-blob response (a download of byte ranges
    /// becomes whole), else the pieces covering [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="count"/>)
    /// and the read-ahead after them.
    /// </summary>
    private void WantPieces(BlobFetch fetch, SwarmBlobDownload download, long offset, long count, bool whole)
    {
        var handle = download.Handle;
        if (whole)
        {
            fetch.MakeWhole();
            handle.WantAll();
            return;
        }

        var meta = handle.MetaInfo;
        var span = PieceSpan.Cover(meta.Length, meta.PieceLength, offset, count, _options.RangeReadAhead);
        handle.Want(span.First, span.Count);
        AgentLog.RangeRead(_logger, fetch.Digest.Value, offset, offset + count - 1, span.First, span.First + span.Count - 1,
            handle.WantsAll ? "the whole blob" : "only the pieces asked for");
    }
}
