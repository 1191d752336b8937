namespace P2PRegistry.Distribution.Tests;

public sealed class GrowingBlobTests
{
    [Fact]
    public async Task FinalByte_IsReadableOnlyOnceVerified()
    {
        var blob = new GrowingBlob(10);
        blob.Advance(10);

        Assert.Equal(9, blob.Readable);
        Assert.Equal(9, await blob.WaitReadableAsync(0, CancellationToken.None));
        var last = blob.WaitReadableAsync(9, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(last.IsCompleted, "the final byte was readable before the blob was verified");

        blob.Complete(10);
        Assert.Equal(10, await last.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(blob.IsComplete);
    }

    [Fact]
    public async Task Verify_ReleasesTheFinalByteBeforeCompletion_AndALaterFailureLeavesItReadable()
    {
        var blob = new GrowingBlob(10);
        blob.Advance(10);
        var last = blob.WaitReadableAsync(9, CancellationToken.None).AsTask();
        Assert.False(last.IsCompleted);

        blob.Verify(10);
        Assert.Equal(10, await last.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(10, blob.Readable);
        Assert.False(blob.Completion.IsCompleted, "verified is not yet stored");

        // The writer's fsync or move failed: the verified bytes are still good to send, the blob just is not stored.
        blob.Fail(new IOException("fsync failed"));
        Assert.Equal(10, await blob.WaitReadableAsync(9, CancellationToken.None));
        await Assert.ThrowsAsync<IOException>(() => blob.Completion);
        Assert.False(blob.IsComplete);
    }

    [Fact]
    public async Task Readers_WakeAsBytesArrive_AndGetTheWritersFailure()
    {
        var blob = new GrowingBlob();
        var waiting = blob.WaitReadableAsync(3, CancellationToken.None).AsTask();
        blob.SetLength(100);
        blob.Advance(2);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        blob.Advance(5);
        Assert.Equal(7, await waiting.WaitAsync(TimeSpan.FromSeconds(5)));

        var failure = new InvalidDataException("hashes to something else");
        var blocked = blob.WaitReadableAsync(50, CancellationToken.None).AsTask();
        blob.Fail(failure);
        Assert.Same(failure, await Assert.ThrowsAsync<InvalidDataException>(() => blocked.WaitAsync(TimeSpan.FromSeconds(5))));
        await Assert.ThrowsAsync<InvalidDataException>(() => blob.Completion);
    }

    [Fact]
    public async Task UnknownLength_NothingIsReadableUntilItIsKnown()
    {
        var blob = new GrowingBlob();
        blob.Advance(10);
        Assert.Equal(0, blob.Readable);
        blob.SetLength(20);
        Assert.Equal(10, await blob.WaitReadableAsync(0, CancellationToken.None));
    }
}
