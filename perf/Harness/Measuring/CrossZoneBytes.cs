namespace P2PRegistry.Harness.Measuring;

/// <summary>What crossed into one zone during a fetch: link bytes (frames, headers included) and their multiple of F.</summary>
internal sealed record ZoneCrossing(string Zone, long Bytes, double TimesF);

/// <summary>
/// Cross-zone accounting from two snapshots of the inter-zone link's counters (per zone, bytes that arrived in it
/// from the other zone). Frames carry about 4.4 % headers (1514 bytes for 1448 of payload), so a zone that received
/// exactly one copy of the blob across shows about 1.04 × F.
/// </summary>
internal static class CrossZoneBytes
{
    public static IReadOnlyList<ZoneCrossing> Between(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after, long blobBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blobBytes);
        if (before.Count != after.Count || before.Keys.Any(k => !after.ContainsKey(k)))
        {
            throw new ArgumentException($"The snapshots name different zones: {string.Join(",", before.Keys.Order())} and {string.Join(",", after.Keys.Order())}.");
        }

        var crossings = new List<ZoneCrossing>(before.Count);
        foreach (var zone in before.Keys.Order(StringComparer.Ordinal))
        {
            var bytes = after[zone] - before[zone];
            if (bytes < 0)
            {
                // A counter only goes down when its device was recreated: no honest figure then.
                throw new InvalidOperationException($"The link counter of zone {zone} went down ({before[zone]} → {after[zone]}).");
            }

            crossings.Add(new ZoneCrossing(zone, bytes, bytes / (double)blobBytes));
        }

        return crossings;
    }
}
