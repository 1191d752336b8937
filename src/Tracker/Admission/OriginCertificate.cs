using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace P2PRegistry.Tracker.Admission;

/// <summary>
/// The role a certificate gives: the cluster CA issues origins a certificate with the URI subject alternative name
/// <c>urn:p2pregistry:role:origin</c>. Only the role is read here; whether the chain is trusted is the TLS
/// handshake's business (Kestrel validates a client certificate before it reaches a request).
/// </summary>
internal static class OriginCertificate
{
    public const string OriginRoleUri = "urn:p2pregistry:role:origin";

    private const string SubjectAltNameOid = "2.5.29.17";

    // RFC 5280 4.2.1.6: SubjectAltName ::= GeneralNames ::= SEQUENCE OF GeneralName;
    // uniformResourceIdentifier is [6] IA5String (implicit, so a primitive context-specific tag 6).
    private static readonly Asn1Tag s_uriTag = new(TagClass.ContextSpecific, 6);

    public static bool HasOriginRole(X509Certificate2 certificate)
    {
        foreach (var uri in UriNames(certificate))
        {
            if (string.Equals(uri, OriginRoleUri, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The URI names of the certificate's subject alternative name extension; a malformed extension has none.</summary>
    public static IReadOnlyList<string> UriNames(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAltNameOid)
            {
                continue;
            }

            try
            {
                var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
                var sequence = reader.ReadSequence();
                reader.ThrowIfNotEmpty();
                while (sequence.HasData)
                {
                    var tag = sequence.PeekTag();
                    if (tag.HasSameClassAndValue(s_uriTag) && !tag.IsConstructed)
                    {
                        names.Add(sequence.ReadCharacterString(UniversalTagNumber.IA5String, s_uriTag));
                    }
                    else
                    {
                        sequence.ReadEncodedValue();
                    }
                }
            }
            catch (AsnContentException)
            {
                return [];
            }
        }

        return names;
    }
}
