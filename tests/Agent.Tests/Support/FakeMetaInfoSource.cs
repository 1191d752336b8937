using P2PRegistry.Agent.Tracking;
using P2PRegistry.Core.Content;
using P2PRegistry.Core.MetaInfos;

namespace P2PRegistry.Agent.Tests.Support;

/// <summary>MetaInfos the test registered; counts the calls; can fail or hang like a broken tracker.</summary>
internal sealed class FakeMetaInfoSource : IMetaInfoSource
{
    private readonly Dictionary<Digest, MetaInfo> _known = [];
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public List<string> Namespaces { get; } = [];

    /// <summary>Runs before every answer: throw or hang to simulate the tracker.</summary>
    public Func<CancellationToken, Task>? Fault { get; set; }

    public void Add(MetaInfo metaInfo)
    {
        lock (_known)
        {
            _known[metaInfo.Digest] = metaInfo;
        }
    }

    public async Task<MetaInfo?> GetMetaInfoAsync(Digest digest, string registryNamespace, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        lock (_known)
        {
            Namespaces.Add(registryNamespace);
        }

        if (Fault is { } fault)
        {
            await fault(cancellationToken);
        }

        // A little latency, as a real tracker has: concurrent callers overlap.
        await Task.Delay(50, cancellationToken);
        lock (_known)
        {
            return _known.GetValueOrDefault(digest);
        }
    }
}
