using System.Text.Json;
using System.Text.Json.Serialization;
using P2PRegistry.Swarm.Pieces;

namespace P2PRegistry.Origin.Cluster;

/// <summary>One deletion the cluster remembers: a manifest revision (<paramref name="Reference"/> is its digest) or a tag.</summary>
internal sealed record Tombstone(string Repository, string Reference, DateTimeOffset DeletedAt)
{
    /// <summary>A digest has a ':'; a tag never does.</summary>
    [JsonIgnore]
    public bool IsManifest => Reference.Contains(':', StringComparison.Ordinal);
}

/// <summary>
/// The deletions of manifests and tags, kept for <see cref="ClusterOptions.TombstoneRetention"/> so that anti-entropy can
/// tell "deleted" from "never received": the repair loop of a member that was down during a DELETE offers the deleted
/// manifest back (it cannot know better), and a member holding the tombstone refuses it (<c>410</c>), which makes the
/// offering member delete its copy too. Members that missed a DELETE are also sent every tombstone by the repair loop.
/// A push of the same manifest or tag clears its tombstone (the newest write wins).
/// <para>
/// Bounded: at most <see cref="MaxCount"/> tombstones (the oldest go first) and none older than the retention. A member
/// down for longer than the retention, or past that many deletions, may bring a deleted manifest back — the trade
/// for a bounded store. Persisted as one JSON file replaced atomically on every change (deletions are rare).
/// </para>
/// </summary>
internal sealed class Tombstones
{
    public const int MaxCount = 100_000;

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = false };

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Repository, string Reference), Tombstone> _entries = [];
    private readonly string? _path;

    /// <param name="path">The file that keeps them across restarts; null keeps them in memory only (tests).</param>
    public Tombstones(string? path)
    {
        _path = path;
        if (path is null || !File.Exists(path))
        {
            return;
        }

        try
        {
            foreach (var entry in JsonSerializer.Deserialize<List<Tombstone>>(File.ReadAllBytes(path), s_json) ?? [])
            {
                if (entry is { Repository.Length: > 0, Reference.Length: > 0 })
                {
                    _entries[(entry.Repository, entry.Reference)] = entry;
                }
            }
        }
        catch (JsonException)
        {
            // A torn file (it is written atomically, so only by hand) loses the tombstones, not the origin.
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Records a deletion (a later one of the same reference replaces the earlier).</summary>
    public void Add(string repository, string reference, DateTimeOffset at)
    {
        lock (_gate)
        {
            _entries[(repository, reference)] = new Tombstone(repository, reference, at);
            if (_entries.Count > MaxCount)
            {
                foreach (var oldest in _entries.Values.OrderBy(t => t.DeletedAt).Take(_entries.Count - MaxCount).ToList())
                {
                    _entries.Remove((oldest.Repository, oldest.Reference));
                }
            }

            Save();
        }
    }

    /// <summary>A push wrote the reference again: it is no longer deleted.</summary>
    public bool Clear(string repository, string reference)
    {
        lock (_gate)
        {
            if (!_entries.Remove((repository, reference)))
            {
                return false;
            }

            Save();
            return true;
        }
    }

    public bool IsDeleted(string repository, string reference)
    {
        lock (_gate)
        {
            return _entries.ContainsKey((repository, reference));
        }
    }

    /// <summary>Forgets the tombstones deleted before <paramref name="now"/> − <paramref name="retention"/>; returns how many.</summary>
    public int Expire(DateTimeOffset now, TimeSpan retention)
    {
        lock (_gate)
        {
            var cutoff = now - retention;
            var expired = _entries.Values.Where(t => t.DeletedAt < cutoff).ToList();
            foreach (var tombstone in expired)
            {
                _entries.Remove((tombstone.Repository, tombstone.Reference));
            }

            if (expired.Count > 0)
            {
                Save();
            }

            return expired.Count;
        }
    }

    /// <summary>A snapshot, oldest first (a member that missed deletions replays them in order).</summary>
    public List<Tombstone> Snapshot()
    {
        lock (_gate)
        {
            return [.. _entries.Values.OrderBy(t => t.DeletedAt)];
        }
    }

    /// <summary>
    /// Anti-entropy, pure: what a member does with a manifest (and tag) another member's repair loop offers it. The
    /// manifest is stored unless its revision was deleted; the tag is set unless the manifest or the tag was deleted.
    /// </summary>
    public OfferDecision Decide(string repository, string digest, string? tag)
    {
        lock (_gate)
        {
            var manifestDeleted = _entries.ContainsKey((repository, digest));
            var tagDeleted = tag is not null && _entries.ContainsKey((repository, tag));
            return new OfferDecision(!manifestDeleted, tag is not null && !manifestDeleted && !tagDeleted, manifestDeleted, tagDeleted);
        }
    }

    private void Save()
    {
        if (_path is null)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        DurableFiles.WriteAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(_entries.Values.ToList(), s_json));
    }
}

/// <summary>What to do with an offered manifest: store it, set its tag; and which part the offering member must delete.</summary>
internal readonly record struct OfferDecision(bool StoreManifest, bool SetTag, bool ManifestDeleted, bool TagDeleted)
{
    /// <summary>The answer is <c>410 Gone</c>: the offering member holds something the cluster deleted.</summary>
    public bool Refused => ManifestDeleted || TagDeleted;
}
