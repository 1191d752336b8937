namespace P2PRegistry.Distribution;

/// <summary>Header names of the distribution API.</summary>
public static class RegistryHeaders
{
    /// <summary>Sent on every response; clients check it on <c>/v2/</c> (value <c>registry/2.0</c>).</summary>
    public const string ApiVersion = "Docker-Distribution-API-Version";

    public const string ContentDigest = "Docker-Content-Digest";

    public const string UploadUuid = "Docker-Upload-UUID";
}
