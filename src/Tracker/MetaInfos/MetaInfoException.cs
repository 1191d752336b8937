using P2PRegistry.Core.Content;

namespace P2PRegistry.Tracker.MetaInfos;

/// <summary>A metainfo could not be had from the origin; <see cref="Failure"/> says why, for the status code.</summary>
internal sealed class MetaInfoException : Exception
{
    public MetaInfoException(Digest digest, MetaInfoFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Digest = digest;
        Failure = failure;
    }

    public Digest Digest { get; }

    public MetaInfoFailure Failure { get; }
}
