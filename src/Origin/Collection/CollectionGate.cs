using System.Collections.Concurrent;
using P2PRegistry.Core.Content;

namespace P2PRegistry.Origin.Collection;

/// <summary>
/// What makes the sweep safe while pushes and pulls go on. Every write that makes a stored blob referenced — an upload
/// committed and linked, a mount, a manifest PUT (its own digest and every blob and child it names), a fill or a
/// pulled-through manifest stored and linked — holds a <see cref="Pin"/> on those digests from <b>before</b> it checks
/// that they exist until <b>after</b> its link file is written; releasing records the time. The sweep removes a blob
/// only under the same per-digest lock, and only if it is not pinned and was not released since the pass began.
/// <para>
/// Why no blob a client relies on can go: take a blob the pass found unreferenced and old. (a) A writer pinned it
/// before the sweep took the lock: the sweep sees the pin or the release time (after the pass began) and skips it.
/// (b) A writer released it before the pass began: its link was written before that, so the inventory of this pass
/// (read after it began) saw the link, and the blob is referenced or young — not a candidate. (c) A writer pins it
/// after the sweep removed it: its existence check, which comes after the pin, fails, and the client is told the
/// blob is unknown (a manifest PUT gets MANIFEST_BLOB_UNKNOWN, a mount becomes an upload) and pushes it again —
/// nothing stored refers to a missing blob. Uploads in progress live in <c>uploads/</c>, which the sweep never
/// touches; a blob committed but not yet named by a manifest is protected by the grace period.
/// </para>
/// <para>
/// Releases are recorded only while a pass runs (between <see cref="BeginPass"/> and <see cref="EndPass"/>): one
/// before the pass began is case (b) and needs no record, so with collection disabled nothing accumulates.
/// </para>
/// </summary>
internal sealed class CollectionGate
{
    private const int StripeCount = 64;

    private readonly Lock[] _stripes = Enumerable.Range(0, StripeCount).Select(_ => new Lock()).ToArray();
    private readonly Dictionary<Digest, int>[] _pins = Enumerable.Range(0, StripeCount).Select(_ => new Dictionary<Digest, int>()).ToArray();
    private readonly ConcurrentDictionary<Digest, long> _released = new();
    private readonly TimeProvider _time;
    private long _passStart;

    public CollectionGate(TimeProvider time) => _time = time;

    /// <summary>Pins <paramref name="digests"/> until the returned value is disposed.</summary>
    public Pin Hold(params ReadOnlySpan<Digest> digests)
    {
        var held = digests.ToArray();
        foreach (var digest in held)
        {
            var stripe = StripeOf(digest);
            lock (_stripes[stripe])
            {
                _pins[stripe][digest] = _pins[stripe].GetValueOrDefault(digest) + 1;
            }
        }

        return new Pin(this, held);
    }

    public Pin Hold(IEnumerable<Digest> digests) => Hold([.. digests]);

    private void Release(Digest[] digests)
    {
        foreach (var digest in digests)
        {
            var stripe = StripeOf(digest);
            lock (_stripes[stripe])
            {
                var count = _pins[stripe].GetValueOrDefault(digest) - 1;
                if (count <= 0)
                {
                    _pins[stripe].Remove(digest);
                }
                else
                {
                    _pins[stripe][digest] = count;
                }

                // A pass beginning after this read saw the link this writer wrote before releasing (case b).
                if (Volatile.Read(ref _passStart) != 0)
                {
                    _released[digest] = _time.GetTimestamp();
                }
            }
        }
    }

    /// <summary>A timestamp for <see cref="TryRemove"/>: taken before the pass reads the store.</summary>
    public long BeginPass()
    {
        var start = Math.Max(1, _time.GetTimestamp());
        Volatile.Write(ref _passStart, start);
        // Releases before this pass are covered by its inventory (case b), so only later ones need remembering.
        foreach (var (digest, at) in _released)
        {
            if (at < start)
            {
                _released.TryRemove(new KeyValuePair<Digest, long>(digest, at));
            }
        }

        return start;
    }

    /// <summary>The pass is over: releases stop being recorded until the next <see cref="BeginPass"/>.</summary>
    public void EndPass()
    {
        Volatile.Write(ref _passStart, 0);
        _released.Clear();
    }

    /// <summary>Releases remembered now (bounded by the digests released during one pass).</summary>
    internal int ReleasedCount => _released.Count;

    /// <summary>Runs <paramref name="remove"/> under the digest's lock unless a writer holds or released it since <paramref name="passStart"/>.</summary>
    public bool TryRemove(Digest digest, long passStart, Action remove)
    {
        var stripe = StripeOf(digest);
        lock (_stripes[stripe])
        {
            if (_pins[stripe].ContainsKey(digest) || (_released.TryGetValue(digest, out var at) && at >= passStart))
            {
                return false;
            }

            remove();
            return true;
        }
    }

    private static int StripeOf(Digest digest) => (int)((uint)digest.GetHashCode() % StripeCount);

    /// <summary>Held digests; disposing releases them (once).</summary>
    internal sealed class Pin : IDisposable
    {
        private CollectionGate? _gate;
        private readonly Digest[] _digests;

        public Pin(CollectionGate gate, Digest[] digests)
        {
            _gate = gate;
            _digests = digests;
        }

        public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release(_digests);
    }
}
