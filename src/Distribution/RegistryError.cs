namespace P2PRegistry.Distribution;

/// <summary>An OCI distribution error code and the HTTP status it travels with.</summary>
public sealed record RegistryError(string Code, int Status)
{
    public static readonly RegistryError BlobUnknown = new("BLOB_UNKNOWN", 404);
    public static readonly RegistryError BlobUploadInvalid = new("BLOB_UPLOAD_INVALID", 400);
    public static readonly RegistryError BlobUploadUnknown = new("BLOB_UPLOAD_UNKNOWN", 404);
    public static readonly RegistryError DigestInvalid = new("DIGEST_INVALID", 400);
    public static readonly RegistryError ManifestBlobUnknown = new("MANIFEST_BLOB_UNKNOWN", 400);
    public static readonly RegistryError ManifestInvalid = new("MANIFEST_INVALID", 400);
    public static readonly RegistryError ManifestUnknown = new("MANIFEST_UNKNOWN", 404);
    public static readonly RegistryError NameInvalid = new("NAME_INVALID", 400);
    public static readonly RegistryError NameUnknown = new("NAME_UNKNOWN", 404);
    public static readonly RegistryError SizeInvalid = new("SIZE_INVALID", 400);
    public static readonly RegistryError TagInvalid = new("TAG_INVALID", 400);
    public static readonly RegistryError Unauthorized = new("UNAUTHORIZED", 401);
    public static readonly RegistryError Denied = new("DENIED", 403);
    public static readonly RegistryError Unsupported = new("UNSUPPORTED", 405);
    public static readonly RegistryError PaginationNumberInvalid = new("PAGINATION_NUMBER_INVALID", 400);

    /// <summary>The client must slow down (a limit, a lockout); sent with <c>Retry-After</c>.</summary>
    public static readonly RegistryError TooManyRequests = new("TOOMANYREQUESTS", 429);

    /// <summary>
    /// What the answer depends on cannot be asked (an upstream or the origin is down, timed out, sent bad bytes): 503,
    /// which containerd treats like 404 and falls back on (unlike 408/429, which it retries on the same host).
    /// </summary>
    public static readonly RegistryError Unavailable = new("UNAVAILABLE", 503);

    /// <summary>
    /// The disk is full (RFC 4918 507). docker-registry answers a storage driver error with 500 UNKNOWN; 507 says
    /// what is wrong, and clients treat both alike (a failed push that docker retries, containerd reports).
    /// </summary>
    public static readonly RegistryError InsufficientStorage = new("UNAVAILABLE", 507);

    /// <summary>A manifest (or body) over the configured limit.</summary>
    public static readonly RegistryError TooLarge = new("SIZE_INVALID", 413);

    /// <summary>A chunk that does not start where the upload ends (the client must resume from Range).</summary>
    public static readonly RegistryError RangeInvalid = new("BLOB_UPLOAD_INVALID", 416);

    /// <summary>A second request on an upload session while one is in flight.</summary>
    public static readonly RegistryError UploadBusy = new("BLOB_UPLOAD_INVALID", 409);
}
