using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace P2PRegistry.Testing.Registries;

/// <summary>
/// A token service for a real <c>docker-registry</c> configured with <c>auth: token</c>, so tests meet the
/// same flow as Docker Hub: 401 + Bearer challenge → GET realm?service&amp;scope → a signed JWT.
/// Tokens are ES256 JWTs whose <c>kid</c> is the libtrust key ID of the signing key, which docker-registry
/// looks up among the public keys of its <c>rootcertbundle</c>. Listens on 127.0.0.1 only.
/// </summary>
public sealed class TokenIssuer : IAsyncDisposable
{
    public const string Issuer = "p2pregistry-test-issuer";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly string? _username;
    private readonly string? _password;
    private int _requests;

    /// <param name="certificateDirectory">Where the root certificate bundle (PEM) for docker-registry is written.</param>
    /// <param name="username">When set, tokens need HTTP Basic with these credentials; otherwise anonymous tokens.</param>
    public TokenIssuer(string certificateDirectory, string? username = null, string? password = null, int lifetimeSeconds = 300)
    {
        _username = username;
        _password = password;
        if (username is not null && password is not null)
        {
            Logging.TestSecrets.Register(password, "token service password", username);
        }
        LifetimeSeconds = lifetimeSeconds;
        KeyId = LibtrustKeyId(_key.ExportSubjectPublicKeyInfo());
        var request = new CertificateRequest("CN=" + Issuer, _key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        CertificatePath = Path.Combine(certificateDirectory, "token-issuer.pem");
        File.WriteAllText(CertificatePath, certificate.ExportCertificatePem() + "\n");

        // HttpListener cannot bind port 0: pick a free port and retry on a race.
        for (var attempt = 0; ; attempt++)
        {
            var port = FreeLoopbackPort();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                _listener.Start();
                Realm = $"http://127.0.0.1:{port}/token";
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }

        _loop = Task.Run(ServeAsync);
    }

    /// <summary>The URL docker-registry names as <c>realm</c>.</summary>
    public string Realm { get; } = "";

    public string CertificatePath { get; }

    public string KeyId { get; }

    public int LifetimeSeconds { get; }

    /// <summary>How many token requests were answered (any outcome).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The <c>auth:</c> block of a docker-registry config.yml for a given service name.</summary>
    public string RegistryAuthYaml(string service) =>
        $"auth:\n  token:\n    realm: {Realm}\n    service: {service}\n    issuer: {Issuer}\n    rootcertbundle: {CertificatePath}\n";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            // Stop and Close may throw when a connection is already failing (seen in CI as a class cleanup failure);
            // the listener is released either way.
            _listener.Stop();
        }
        catch (HttpListenerException)
        {
        }

        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or OperationCanceledException)
        {
        }

        try
        {
            _listener.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }

        _key.Dispose();
        _stop.Dispose();
    }

    /// <summary>libtrust's key ID: base32 of the first 30 bytes of SHA-256(SPKI DER), in 12 groups of 4 joined by ':'.</summary>
    public static string LibtrustKeyId(ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        var hash = SHA256.HashData(subjectPublicKeyInfo);
        var encoded = Base32(hash.AsSpan(0, 30));
        return string.Join(':', Enumerable.Range(0, encoded.Length / 4).Select(i => encoded.Substring(i * 4, 4)));
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            Interlocked.Increment(ref _requests);
            try
            {
                Answer(context);
                context.Response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or IOException)
            {
                // The client went away mid-answer: the issuer goes on serving the others.
                context.Response.Abort();
            }
        }
    }

    private void Answer(HttpListenerContext context)
    {
        if (context.Request.Url?.AbsolutePath != "/token")
        {
            context.Response.StatusCode = 404;
            return;
        }

        var subject = "anonymous";
        if (_username is not null)
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_username}:{_password}"));
            if (context.Request.Headers["Authorization"] != expected)
            {
                context.Response.StatusCode = 401;
                context.Response.AddHeader("WWW-Authenticate", "Basic realm=\"token\"");
                return;
            }

            subject = _username;
        }

        var service = context.Request.QueryString["service"] ?? "";
        var access = new List<object>();
        foreach (var scope in context.Request.QueryString.GetValues("scope") ?? [])
        {
            // repository:<name>:<actions>; the name itself may contain ':' only before a port, so split from the ends.
            var first = scope.IndexOf(':', StringComparison.Ordinal);
            var last = scope.LastIndexOf(':');
            if (first > 0 && last > first)
            {
                access.Add(new { type = scope[..first], name = scope[(first + 1)..last], actions = scope[(last + 1)..].Split(',') });
            }
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new { typ = "JWT", alg = "ES256", kid = KeyId };
        var claims = new
        {
            iss = Issuer,
            sub = subject,
            aud = service,
            exp = now + LifetimeSeconds,
            nbf = now - 10,
            iat = now,
            jti = Guid.NewGuid().ToString("N"),
            access,
        };
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var token = signingInput + "." + Base64Url(signature);
        // The bearer token is a credential our origin then holds: neither it nor its signature may show up in a log.
        Logging.TestSecrets.Register(token, "bearer token from TokenIssuer");
        Logging.TestSecrets.Register(Base64Url(signature), "bearer token signature from TokenIssuer");
        var body = JsonSerializer.SerializeToUtf8Bytes(new { token, access_token = token, expires_in = LifetimeSeconds, issued_at = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) });
        context.Response.ContentType = "application/json";
        context.Response.OutputStream.Write(body);
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Base32(ReadOnlySpan<byte> bytes)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var output = new StringBuilder((bytes.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                output.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            output.Append(alphabet[(buffer << (5 - bits)) & 31]);
        }

        return output.ToString();
    }

    private static int FreeLoopbackPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
