namespace P2PRegistry.Distribution;

/// <summary>
/// A request the registry refuses, thrown inside a handler and written once, by the dispatcher, as the OCI
/// error body. Only bad input travels this way; it is never a server fault.
/// </summary>
public sealed class RegistryException : Exception
{
    public RegistryException(RegistryError error, string message, string? detail = null)
        : base(message)
    {
        Error = error;
        Detail = detail;
    }

    public RegistryError Error { get; }

    public string? Detail { get; }

    /// <summary>Headers to add to the error response (e.g. the current Range on a 416).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}
