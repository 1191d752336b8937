using P2PRegistry.Origin.Configuration;

namespace P2PRegistry.Origin.Collection;

/// <summary>The checks of <c>Origin:Gc</c> and <c>Origin:PullThroughCacheBytes</c>, each failure naming the key and value.</summary>
internal static class GcOptionsValidator
{
    private const string S = OriginOptions.SectionName;

    public static IEnumerable<string> Validate(OriginOptions options)
    {
        var gc = options.Gc;
        if (gc.Interval < TimeSpan.FromSeconds(1) || gc.Interval > TimeSpan.FromDays(7))
        {
            yield return $"{S}:Gc:Interval must be between 00:00:01 and 7.00:00:00; got '{gc.Interval}'.";
        }

        if (gc.GracePeriod < TimeSpan.Zero || gc.GracePeriod > TimeSpan.FromDays(30))
        {
            yield return $"{S}:Gc:GracePeriod must be between 00:00:00 and 30.00:00:00; got '{gc.GracePeriod}'.";
        }
        else if (gc.GracePeriod < TimeSpan.FromSeconds(1) && !gc.DryRun)
        {
            // Zero would let a pass remove the layers of a push whose manifest is on its way.
            yield return $"{S}:Gc:GracePeriod must be at least 00:00:01 unless {S}:Gc:DryRun is true; got '{gc.GracePeriod}'.";
        }

        if (options.PullThroughCacheBytes < 0)
        {
            yield return $"{S}:PullThroughCacheBytes must be 0 (unlimited) or a positive number of bytes; got '{options.PullThroughCacheBytes}'.";
        }
    }
}
