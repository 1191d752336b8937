namespace P2PRegistry.Agent.Cache;

/// <summary>What a <see cref="GcItem"/> is on disk, and how the collector removes it.</summary>
internal enum GcItemKind
{
    /// <summary>A cached blob (<c>cache/sha256/&lt;hex&gt;</c>) and its MetaInfo (<c>metainfo/&lt;hex&gt;</c>).</summary>
    Blob,

    /// <summary>A partial download no fetch is running for (<c>download/&lt;hex&gt;</c> and its resume file).</summary>
    PartialDownload,

    /// <summary>A cached manifest (<c>manifests/sha256/&lt;hex&gt;</c> and its media type).</summary>
    Manifest,
}
