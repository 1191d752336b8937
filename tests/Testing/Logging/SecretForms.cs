using System.Text;

namespace P2PRegistry.Testing.Logging;

/// <summary>The forms a secret leaks in: as is, URL-encoded, and HTTP Basic <c>base64(user:secret)</c> per username.</summary>
internal static class SecretForms
{
    public static IEnumerable<SecretForm> Of(string secret, IEnumerable<string> usernames)
    {
        var hint = TestSecrets.Mask(secret);
        yield return new SecretForm(secret, "as is", hint);
        var escaped = Uri.EscapeDataString(secret);
        if (escaped != secret)
        {
            yield return new SecretForm(escaped, "URL-encoded", hint);
        }

        foreach (var user in usernames)
        {
            yield return new SecretForm(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{secret}")), "HTTP Basic", hint);
        }
    }
}
