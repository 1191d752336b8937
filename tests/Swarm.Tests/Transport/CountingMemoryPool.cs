using System.Buffers;

namespace P2PRegistry.Swarm.Tests.Transport;

/// <summary>A memory pool that counts the segments it has lent and not yet got back.</summary>
internal sealed class CountingMemoryPool : MemoryPool<byte>
{
    private int _outstanding;
    private int _rented;

    public override int MaxBufferSize => int.MaxValue;

    /// <summary>Segments rented and not yet returned.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Segments rented so far.</summary>
    public int Rented => Volatile.Read(ref _rented);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        Interlocked.Increment(ref _rented);
        Interlocked.Increment(ref _outstanding);
        return new Owner(this, new byte[minBufferSize < 0 ? 4096 : minBufferSize]);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Owner(CountingMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private int _returned;

        public Memory<byte> Memory => array;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                Interlocked.Decrement(ref pool._outstanding);
            }
        }
    }
}
