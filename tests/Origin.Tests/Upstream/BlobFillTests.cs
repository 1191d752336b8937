using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Upstream;

namespace P2PRegistry.Origin.Tests.Upstream;

/// <summary>The reader side of a fill: what may be sent when, and how a failure reaches waiting readers.</summary>
public sealed class BlobFillTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), $"fill-test-{Guid.NewGuid():N}.tmp");

    private BlobFill NewFill()
    {
        File.WriteAllBytes(_temp, new byte[10]);
        return new BlobFill(Digest.Compute("x"u8), "up.example", _temp);
    }

    [Fact]
    public void Readable_HoldsBackTheFinalByteUntilComplete()
    {
        var fill = NewFill();
        Assert.Equal(0, fill.Readable);
        fill.SetLength(10);
        fill.Advance(4);
        Assert.Equal(4, fill.Readable);
        fill.Advance(6);
        Assert.Equal(9, fill.Readable);
        fill.Complete(10);
        Assert.Equal(10, fill.Readable);
        Assert.True(fill.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task WaitReadable_WakesOnProgress_AndThrowsTheFailure()
    {
        var fill = NewFill();
        fill.SetLength(10);
        var waiting = fill.WaitReadableAsync(5, CancellationToken.None).AsTask();
        fill.Advance(3);
        Assert.False(waiting.IsCompleted);
        fill.Advance(3);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));

        var beyond = fill.WaitReadableAsync(9, CancellationToken.None).AsTask();
        fill.Fail(new UpstreamException(UpstreamFailure.DigestMismatch, "up.example", "bad"));
        var ex = await Assert.ThrowsAsync<UpstreamException>(() => beyond.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(UpstreamFailure.DigestMismatch, ex.Failure);
        await Assert.ThrowsAsync<UpstreamException>(() => fill.Completion);
        Assert.Null(fill.TryOpenReader());
    }

    [Fact]
    public void TryOpenReader_NullOnceTheFillStoppedAttaching()
    {
        var fill = NewFill();
        using (var handle = fill.TryOpenReader())
        {
            Assert.NotNull(handle);
        }

        fill.StopAttaching();
        Assert.Null(fill.TryOpenReader());
    }

    [Fact]
    public void TryOpenReader_TempFileGone_IsNullNotAnException()
    {
        var fill = NewFill();
        fill.SetLength(10);
        File.Delete(_temp);
        Assert.Null(fill.TryOpenReader());
    }

    [Fact]
    public async Task Length_FaultsWhenTheFillFailsBeforeHeaders()
    {
        var fill = NewFill();
        fill.Fail(new UpstreamException(UpstreamFailure.NotFound, "up.example", "no such blob"));
        var ex = await Assert.ThrowsAsync<UpstreamException>(() => fill.Length);
        Assert.Equal(UpstreamFailure.NotFound, ex.Failure);
    }

    public void Dispose() => File.Delete(_temp);
}
