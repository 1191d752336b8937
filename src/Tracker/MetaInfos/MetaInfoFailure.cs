namespace P2PRegistry.Tracker.MetaInfos;

/// <summary>Why a metainfo could not be had from the origin.</summary>
internal enum MetaInfoFailure
{
    /// <summary>The origin has no such blob (404).</summary>
    NotFound,

    /// <summary>The origin could not be reached, timed out or failed (5xx): worth retrying later.</summary>
    Unavailable,

    /// <summary>The origin answered something that is not the metainfo of the requested digest.</summary>
    Invalid,
}
