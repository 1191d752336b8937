namespace P2PRegistry.Testing.Waiting;

/// <summary>
/// A bounded poll for something that happens after the call that causes it returns (a background announce, a counter
/// updated after the waiters are released): asks every 20 ms until the condition holds or the timeout passes. The
/// timeout is generous so a busy machine does not fail the test; the caller asserts the condition afterwards.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>True once <paramref name="condition"/> holds, false if it still does not after <paramref name="timeout"/>.</summary>
    public static async Task<bool> HoldsAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }

        return true;
    }

    /// <summary>
    /// True once the asynchronous <paramref name="condition"/> holds (a status read over HTTP, a file listing), false if
    /// it still does not after <paramref name="timeout"/>; asks every 100 ms, one ask at a time.
    /// </summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        return true;
    }

    /// <summary>Fails the test unless <paramref name="condition"/> holds within <paramref name="timeout"/>, naming <paramref name="what"/>.</summary>
    public static async Task AssertAsync(Func<bool> condition, string? what = null, TimeSpan? timeout = null)
    {
        var within = timeout ?? DefaultTimeout;
        Xunit.Assert.True(await HoldsAsync(condition, within), $"not within {within.TotalSeconds:0} s: {what ?? "the awaited condition"}");
    }

    /// <summary>Fails the test unless the asynchronous <paramref name="condition"/> holds within <paramref name="timeout"/>.</summary>
    public static async Task AssertAsync(Func<Task<bool>> condition, string? what = null, TimeSpan? timeout = null)
    {
        var within = timeout ?? DefaultTimeout;
        Xunit.Assert.True(await HoldsAsync(condition, within), $"not within {within.TotalSeconds:0} s: {what ?? "the awaited condition"}");
    }
}
