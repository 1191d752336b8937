using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Agent.Blobs;
using P2PRegistry.Agent.Tests.Support;
using P2PRegistry.Core.Content;
using P2PRegistry.Testing.Fakes;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Agent.Tests.Blobs;

/// <summary>The collector's removal of a partial download against a fetch of the same blob starting at that moment.</summary>
public sealed class PartialDownloadRemovalTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new("agent-partial-removal");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RemoveIfIdle_FetchAskedForDuringTheRemoval_StartsOnlyOnceTheFilesAreGone()
    {
        // The fetch hangs on its MetaInfo: it stays in progress for the whole test.
        var metaInfos = new FakeMetaInfoSource { Fault = ct => Task.Delay(System.Threading.Timeout.Infinite, ct) };
        await using var agent = await TestAgent.StartAsync(_dir.Combine("data"), metaInfos, new FakeTracker());
        var partials = agent.Services.GetRequiredService<PartialDownloads>();
        var digest = Digest.Compute([1, 2, 3]);
        var path = Path.Combine(_dir.Combine("data"), "download", digest.Hex);
        File.WriteAllBytes(path, new byte[1000]);

        // A pull asks for the blob right between the collector's check and its unlink (the seam: inside the removal).
        Task<BlobFetch>? racing = null;
        var removed = agent.Fetcher.RemoveIfIdle(digest, d =>
        {
            racing = Task.Run(() => agent.Fetcher.GetOrStart(digest, "docker.io"));

            // It waits for the removal: a bounded look that can only pass wrongly, never fail wrongly (the lock holds it).
            Assert.False(racing.Wait(TimeSpan.FromMilliseconds(300)), "a fetch started while its partial download was being removed");
            Assert.True(File.Exists(path));
            return partials.Remove(d);
        });

        Assert.Equal(1000, removed);
        Assert.False(File.Exists(path));
        var fetch = await racing!.WaitAsync(Timeout);
        Assert.Same(fetch, agent.Fetcher.Find(digest));

        // With the fetch in progress the collector removes nothing: its file is the fetch's to resume.
        File.WriteAllBytes(path, new byte[1000]);
        var called = false;
        Assert.Equal(0, agent.Fetcher.RemoveIfIdle(digest, d =>
        {
            called = true;
            return partials.Remove(d);
        }));
        Assert.False(called);
        Assert.True(File.Exists(path));
    }
}
