namespace P2PRegistry.Testing.Waiting;

/// <summary>
/// A bounded poll for something that happens after the call that causes it returns (a background announce, a counter
/// updated after the waiters are released): asks until the condition holds or the timeout passes. The timeout is
/// generous so a busy machine does not fail the test. A condition is a <c>Func&lt;bool&gt;</c> (a field read, asked every
/// 20 ms) or a <c>Func&lt;Task&lt;bool&gt;&gt;</c> (a status read over HTTP, a file listing: asked every 100 ms, one ask at
/// a time); both go through the same loop.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan s_syncInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_asyncInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>True once <paramref name="condition"/> holds, false if it still does not after <paramref name="timeout"/>.</summary>
    public static Task<bool> HoldsAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return PollAsync(() => ValueTask.FromResult(condition()), s_syncInterval, timeout ?? DefaultTimeout);
    }

    /// <summary>True once the asynchronous <paramref name="condition"/> holds, false if it still does not after <paramref name="timeout"/>.</summary>
    public static Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return PollAsync(async () => await condition(), s_asyncInterval, timeout ?? DefaultTimeout);
    }

    /// <summary>Fails the test unless <paramref name="condition"/> holds within <paramref name="timeout"/>, naming <paramref name="what"/>.</summary>
    public static async Task AssertAsync(Func<bool> condition, string? what = null, TimeSpan? timeout = null)
    {
        var within = timeout ?? DefaultTimeout;
        AssertHeld(await HoldsAsync(condition, within), within, what);
    }

    /// <summary>Fails the test unless the asynchronous <paramref name="condition"/> holds within <paramref name="timeout"/>.</summary>
    public static async Task AssertAsync(Func<Task<bool>> condition, string? what = null, TimeSpan? timeout = null)
    {
        var within = timeout ?? DefaultTimeout;
        AssertHeld(await HoldsAsync(condition, within), within, what);
    }

    private static async Task<bool> PollAsync(Func<ValueTask<bool>> condition, TimeSpan interval, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(interval);
        }

        return true;
    }

    private static void AssertHeld(bool held, TimeSpan within, string? what) =>
        Xunit.Assert.True(held, $"not within {within.TotalSeconds:0} s: {what ?? "the awaited condition"}");
}
