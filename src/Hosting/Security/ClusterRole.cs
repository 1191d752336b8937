using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace P2PRegistry.Hosting.Security;

/// <summary>What a cluster member is, as its certificate says: a URI SAN <c>urn:p2pregistry:role:origin</c> or <c>…:agent</c>.</summary>
public enum ClusterRole
{
    /// <summary>No certificate, no role URI, or more than one role: not trusted for any role.</summary>
    None,
    Agent,
    Origin,
}

/// <summary>
/// Reads <see cref="ClusterRole"/> from a client certificate. The certificate must already have been verified against
/// the cluster CA (the TLS handshake did that, see <see cref="ComponentTls.ConfigureServer"/>); this only reads it.
/// From a request: <c>ClusterRoles.Of(httpContext.Connection.ClientCertificate)</c>, in gRPC
/// <c>ClusterRoles.Of(context.GetHttpContext().Connection.ClientCertificate)</c>.
/// </summary>
public static class ClusterRoles
{
    public const string OriginUri = "urn:p2pregistry:role:origin";
    public const string AgentUri = "urn:p2pregistry:role:agent";

    private const string SubjectAlternativeNameOid = "2.5.29.17";

    public static ClusterRole Of(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return ClusterRole.None;
        }

        var role = ClusterRole.None;
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAlternativeNameOid)
            {
                continue;
            }

            foreach (var uri in UrisOf(extension.RawData))
            {
                var named = Parse(uri);
                if (named == ClusterRole.None)
                {
                    continue;
                }

                // Two different roles in one certificate: a misissued certificate is no origin.
                if (role != ClusterRole.None && role != named)
                {
                    return ClusterRole.None;
                }

                role = named;
            }
        }

        return role;
    }

    /// <summary>The role a URI names: the whole URI, compared ignoring case.</summary>
    public static ClusterRole Parse(string uri) =>
        string.Equals(uri, OriginUri, StringComparison.OrdinalIgnoreCase) ? ClusterRole.Origin
        : string.Equals(uri, AgentUri, StringComparison.OrdinalIgnoreCase) ? ClusterRole.Agent
        : ClusterRole.None;

    // RFC 5280 4.2.1.6: SubjectAltName ::= GeneralNames ::= SEQUENCE OF GeneralName;
    // uniformResourceIdentifier is [6] IMPLICIT IA5String. Other names are skipped; a SAN that does not decode has no URIs.
    internal static List<string> UrisOf(byte[] subjectAlternativeName)
    {
        var uris = new List<string>();
        try
        {
            var reader = new AsnReader(subjectAlternativeName, AsnEncodingRules.DER);
            var names = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (tag.HasSameClassAndValue(uriTag))
                {
                    uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag));
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException)
        {
            return [];
        }

        return uris;
    }
}
