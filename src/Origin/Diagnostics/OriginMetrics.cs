using System.Diagnostics.Metrics;

namespace P2PRegistry.Origin.Diagnostics;

/// <summary>The origin's instruments, all under the meter <see cref="MeterName"/>.</summary>
internal sealed class OriginMetrics
{
    public const string MeterName = "P2PRegistry.Origin";

    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _uploadsCompleted;
    private readonly Counter<long> _digestMismatches;
    private readonly Counter<long> _metaInfoRehash;
    private readonly Counter<long> _manifestsStored;

    public OriginMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _bytesSent = meter.CreateCounter<long>("p2pregistry.origin.blob.bytes_sent", "By", "Blob bytes sent to clients.");
        _bytesReceived = meter.CreateCounter<long>("p2pregistry.origin.blob.bytes_received", "By", "Blob bytes received in uploads.");
        _uploadsCompleted = meter.CreateCounter<long>("p2pregistry.origin.uploads.completed", "{upload}", "Blob uploads verified and stored.");
        _digestMismatches = meter.CreateCounter<long>("p2pregistry.origin.digest_mismatches", "{upload}", "Uploads refused because the content did not hash to the claimed digest.");
        _metaInfoRehash = meter.CreateCounter<long>("p2pregistry.origin.metainfo.rehash", "{blob}", "Metainfos computed by re-reading a stored blob instead of while it streamed in.");
        _manifestsStored = meter.CreateCounter<long>("p2pregistry.origin.manifests.stored", "{manifest}", "Manifests stored.");
    }

    public void BytesSent(long count) => _bytesSent.Add(count);

    public void BytesReceived(long count) => _bytesReceived.Add(count);

    public void UploadCompleted() => _uploadsCompleted.Add(1);

    public void DigestMismatch() => _digestMismatches.Add(1);

    public void MetaInfoRehash() => _metaInfoRehash.Add(1);

    public void ManifestStored() => _manifestsStored.Add(1);
}
