using System.Text;
using System.Text.Json;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Manifests;

namespace P2PRegistry.Origin.Collection;

/// <summary>
/// The mark phase of the origin's garbage collection, pure: from root manifests (every manifest revision of every
/// repository) to the set of digests that must stay. A manifest keeps itself, its <c>config</c>, <c>layers</c>,
/// <c>blobs</c> and child <c>manifests</c> (read in turn: index → manifests → config and layers), foreign layers
/// included, and its referrers (a referrer of a kept manifest is kept). A referrer does <b>not</b> keep its
/// <c>subject</c>: OCI 1.1 lets a subject be absent, so DELETE of an image makes its layers collectable even while a
/// signature of it remains (the signature itself is a manifest revision, kept until it is deleted).
/// Never delete on doubt: a manifest that is not JSON, not a manifest, or of a media type this registry does not know
/// keeps every <c>sha256:…</c> string found anywhere in its bytes (and those are read as possible manifests too).
/// </summary>
internal static class ReachabilityMarker
{
    /// <summary>Media types whose references <see cref="ManifestReferences"/> reads completely.</summary>
    private static readonly HashSet<string> s_known = new(StringComparer.Ordinal)
    {
        ManifestReferences.OciManifest,
        ManifestReferences.OciIndex,
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    };

    /// <param name="roots">Manifest digests that are kept whatever references them.</param>
    /// <param name="read">
    /// A manifest's bytes, or null when the store has no such blob or it is too large to be a manifest (then it is
    /// kept, but not read). An I/O error must throw: the pass is then abandoned (nothing is removed).
    /// </param>
    /// <param name="referrers">The referrer manifests recorded for a subject digest (empty when none).</param>
    /// <param name="maxManifests">Bound on manifests read in one pass; reaching it throws (the pass removes nothing).</param>
    public static MarkResult Mark(IEnumerable<Digest> roots, Func<Digest, ReadOnlyMemory<byte>?> read, Func<Digest, IEnumerable<Digest>> referrers, int maxManifests = 1_000_000)
    {
        var result = new MarkResult();
        // Speculative: a digest found only by scanning the bytes of a manifest read conservatively; it may be any blob, so
        // failing to read it as a manifest is no doubt worth reporting.
        var pending = new Stack<(Digest Digest, bool Speculative)>();
        var visited = new HashSet<Digest>();
        foreach (var root in roots)
        {
            pending.Push((root, false));
        }

        while (pending.TryPop(out var next))
        {
            var manifest = next.Digest;
            result.Reachable.Add(manifest);
            if (!visited.Add(manifest))
            {
                continue;
            }

            if (visited.Count > maxManifests)
            {
                throw new InvalidOperationException($"more than {maxManifests} manifests reachable: marking stopped, nothing removed");
            }

            foreach (var referrer in referrers(manifest))
            {
                pending.Push((referrer, false));
            }

            if (read(manifest) is not { } content)
            {
                continue;
            }

            var references = ReferencesOf(content, out var doubt);
            if (doubt is not null && !next.Speculative)
            {
                result.Doubtful.Add(new DoubtfulManifest(manifest, doubt));
            }

            foreach (var blob in references.Leaves)
            {
                result.Reachable.Add(blob);
            }

            foreach (var child in references.Manifests)
            {
                pending.Push((child, doubt is not null));
            }
        }

        return result;
    }

    /// <summary>
    /// What one manifest keeps: <see cref="ManifestReferences"/> for a known media type, plus every digest string in
    /// its bytes except its subject (foreign layers, fields this registry does not read); for anything else, every
    /// digest string, each also read as a possible manifest. <paramref name="doubt"/> says why it was read conservatively.
    /// </summary>
    internal static (List<Digest> Leaves, List<Digest> Manifests) ReferencesOf(ReadOnlyMemory<byte> content, out string? doubt)
    {
        var scanned = ScanDigests(content.Span);
        try
        {
            var references = ManifestReferences.Read(content);
            if (references.MediaType is { } mediaType && !s_known.Contains(mediaType))
            {
                doubt = $"unknown media type {mediaType}";
                return ([.. references.Blobs, .. scanned], [.. references.Manifests, .. scanned]);
            }

            doubt = null;
            var leaves = new List<Digest>(references.Blobs);
            foreach (var digest in scanned)
            {
                if (digest != references.Subject)
                {
                    leaves.Add(digest);
                }
            }

            return (leaves, references.Manifests);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            doubt = $"not a readable manifest ({ex.Message})";
            return (scanned, scanned);
        }
    }

    /// <summary>Every <c>sha256:</c> followed by 64 lowercase hex digits, anywhere in the bytes.</summary>
    internal static List<Digest> ScanDigests(ReadOnlySpan<byte> content)
    {
        var found = new List<Digest>();
        var prefix = "sha256:"u8;
        var at = 0;
        while (true)
        {
            var index = content[at..].IndexOf(prefix);
            if (index < 0)
            {
                return found;
            }

            var start = at + index + prefix.Length;
            var end = start;
            while (end < content.Length && end - start < Digest.Sha256HexLength && IsLowerHex(content[end]))
            {
                end++;
            }

            if (end - start == Digest.Sha256HexLength && (end == content.Length || !IsLowerHex(content[end]))
                && Digest.TryParse($"sha256:{Encoding.ASCII.GetString(content[start..end])}", out var digest))
            {
                found.Add(digest);
            }

            at = start;
        }
    }

    private static bool IsLowerHex(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f');
}

/// <summary>What the mark phase keeps, and the manifests it could only read conservatively.</summary>
internal sealed class MarkResult
{
    public HashSet<Digest> Reachable { get; } = [];

    public List<DoubtfulManifest> Doubtful { get; } = [];
}

internal readonly record struct DoubtfulManifest(Digest Digest, string Reason);
