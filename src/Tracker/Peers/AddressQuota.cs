using System.Collections.Concurrent;
using System.Net;
using P2PRegistry.Hosting;

namespace P2PRegistry.Tracker.Peers;

/// <summary>
/// How many peers each address holds, across all swarms, with a cap per address (an address is its
/// <see cref="ClientKey"/>: IPv6 by its /64). Thread-safe without a global lock:
/// a take that would pass the cap is handed back at once, so concurrent announces never overshoot it.
/// </summary>
internal sealed class AddressQuota(int limitPerAddress)
{
    private readonly ConcurrentDictionary<IPAddress, StrongBox> _counts = new();

    /// <summary>Addresses holding at least one peer.</summary>
    public int Addresses => _counts.Count;

    public int CountOf(IPAddress address) => _counts.TryGetValue(ClientKey.Of(address), out var box) ? Volatile.Read(ref box.Value) : 0;

    /// <summary>Counts one more peer for <paramref name="address"/>; false (and nothing counted) past the cap, unless <paramref name="exempt"/>.</summary>
    public bool TryTake(IPAddress address, bool exempt)
    {
        address = ClientKey.Of(address);
        while (true)
        {
            var box = _counts.GetOrAdd(address, static _ => new StrongBox());
            var count = Interlocked.Increment(ref box.Value);
            if (count <= 0)
            {
                // Lost a race with Release removing this box at zero: it is gone from the map, start again.
                continue;
            }

            if (count > limitPerAddress && !exempt)
            {
                Release(address, box);
                return false;
            }

            return true;
        }
    }

    public void Release(IPAddress address)
    {
        address = ClientKey.Of(address);
        if (_counts.TryGetValue(address, out var box))
        {
            Release(address, box);
        }
    }

    private void Release(IPAddress address, StrongBox box)
    {
        if (Interlocked.Decrement(ref box.Value) != 0)
        {
            return;
        }

        // Retire the box at zero (int.MinValue makes a concurrent taker see it dead and retry with a new one).
        if (Interlocked.CompareExchange(ref box.Value, int.MinValue, 0) == 0)
        {
            _counts.TryRemove(new KeyValuePair<IPAddress, StrongBox>(address, box));
        }
    }

    private sealed class StrongBox
    {
        public int Value;
    }
}
