namespace P2PRegistry.Agent.Manifests;

public enum ManifestLookupStatus
{
    Found,
    /// <summary>The origin answered that it has no such manifest.</summary>
    NotFound,
    /// <summary>The origin could not be reached, timed out, or answered with something unusable.</summary>
    Unavailable,
}

public sealed record ManifestLookup(ManifestLookupStatus Status, Manifest? Manifest, string Reason);
