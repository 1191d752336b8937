namespace P2PRegistry.Hosting.Security;

/// <summary>
/// TLS settings of one component, bound from <c>&lt;Component&gt;:Tls</c> (and <c>Swarm:Tls</c> for the peer port). Files
/// are PEM; the certificate files may hold the leaf followed by its intermediates (cert-manager's <c>tls.crt</c>).
/// Both certificate pairs are read again when their files change (see <see cref="ReloadingCertificate"/>).
/// </summary>
public sealed class TlsOptions
{
    /// <summary>The certificate this component's listeners serve; with <see cref="KeyPath"/>. Needed for https listen URLs.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The private key of <see cref="CertificatePath"/> (PKCS#8, PKCS#1 or SEC1 PEM, not encrypted).</summary>
    public string? KeyPath { get; set; }

    /// <summary>The CA bundle client certificates must chain to; empty = <see cref="CaPath"/>.</summary>
    public string? ClientCaPath { get; set; }

    /// <summary>Mutual TLS: a client without a certificate from the client CA is refused during the handshake.</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>The CA bundle this component's clients verify servers against; empty = the system's trust store.</summary>
    public string? CaPath { get; set; }

    /// <summary>The certificate this component presents when it dials a server that asks for one; with <see cref="ClientKeyPath"/>.</summary>
    public string? ClientCertificatePath { get; set; }

    public string? ClientKeyPath { get; set; }

    /// <summary>How often the certificate and key files are checked for a change.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(10);

    public bool HasServerCertificate => !string.IsNullOrEmpty(CertificatePath);

    public bool HasClientCertificate => !string.IsNullOrEmpty(ClientCertificatePath);

    /// <summary>The bundle client certificates are checked against, or null when none is configured.</summary>
    public string? EffectiveClientCaPath => !string.IsNullOrEmpty(ClientCaPath) ? ClientCaPath : string.IsNullOrEmpty(CaPath) ? null : CaPath;

    /// <summary>One message per problem, each naming the full key (<paramref name="section"/> is e.g. <c>Origin:Tls</c>).</summary>
    public IEnumerable<string> Validate(string section)
    {
        var errors = new List<string>();
        Pair(errors, section, nameof(CertificatePath), CertificatePath, nameof(KeyPath), KeyPath);
        Pair(errors, section, nameof(ClientCertificatePath), ClientCertificatePath, nameof(ClientKeyPath), ClientKeyPath);
        Bundle(errors, section, nameof(CaPath), CaPath);
        Bundle(errors, section, nameof(ClientCaPath), ClientCaPath);
        if (RequireClientCertificate)
        {
            if (!HasServerCertificate)
            {
                errors.Add($"{section}:{nameof(RequireClientCertificate)} needs {section}:{nameof(CertificatePath)} (client certificates are asked for during a TLS handshake).");
            }

            if (EffectiveClientCaPath is null)
            {
                errors.Add($"{section}:{nameof(RequireClientCertificate)} needs {section}:{nameof(ClientCaPath)} or {section}:{nameof(CaPath)}: the CA bundle client certificates must chain to.");
            }
        }

        if (ReloadInterval <= TimeSpan.Zero)
        {
            errors.Add($"{section}:{nameof(ReloadInterval)} must be positive, got {ReloadInterval}.");
        }

        return errors;
    }

    /// <summary>
    /// Mutual TLS needs an https listener to ask for client certificates on: with <see cref="RequireClientCertificate"/>
    /// set and every listener plain http it would be silently off, so that is an error naming the keys.
    /// <paramref name="listeners"/> are the component's listen URLs with the keys they come from.
    /// </summary>
    public IEnumerable<string> ValidateListeners(string section, IEnumerable<(string Key, string? Url)> listeners)
    {
        ArgumentNullException.ThrowIfNull(listeners);
        if (!RequireClientCertificate)
        {
            return [];
        }

        var all = listeners.ToList();
        if (all.Any(l => l.Url is not null && l.Url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            return [];
        }

        var named = string.Join(", ", all.Select(l => $"{l.Key} '{l.Url}'"));
        return [$"{section}:{nameof(RequireClientCertificate)} is true but no listener is https ({named}): mutual TLS would be off. Use an https listen URL, or unset {section}:{nameof(RequireClientCertificate)}."];
    }

    private static void Pair(List<string> errors, string section, string certificateKey, string? certificate, string keyKey, string? key)
    {
        if (string.IsNullOrEmpty(certificate) && string.IsNullOrEmpty(key))
        {
            return;
        }

        if (string.IsNullOrEmpty(certificate) || string.IsNullOrEmpty(key))
        {
            errors.Add($"{section}:{certificateKey} and {section}:{keyKey} go together; only one is set.");
            return;
        }

        if (!PemCertificate.TryLoad(certificate, key, out _, out var error))
        {
            errors.Add($"{section}:{certificateKey} '{certificate}' with {section}:{keyKey} '{key}': {error}");
        }
    }

    private static void Bundle(List<string> errors, string section, string key, string? path)
    {
        if (!string.IsNullOrEmpty(path) && !CertificateTrust.TryLoad(path, out _, out var error))
        {
            errors.Add($"{section}:{key} '{path}': {error}");
        }
    }
}
