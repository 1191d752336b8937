using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using P2PRegistry.Testing.Registries;

namespace P2PRegistry.Integration.Tests.Upstream;

/// <summary>Our test token service is accepted by a real docker-registry running <c>auth: token</c>.</summary>
[Trait("Category", TestCategories.Integration)]
public sealed class TokenIssuerTests
{
    [Fact]
    public async Task DockerRegistryWithTokenAuth_AcceptsIssuedToken()
    {
        var dir = Directory.CreateTempSubdirectory("p2preg-token-").FullName;
        await using var issuer = new TokenIssuer(dir, "alice", "s3cret");
        var port = FreePort();
        File.WriteAllText(Path.Combine(dir, "config.yml"),
            $"version: 0.1\nlog: {{level: warn}}\nstorage: {{filesystem: {{rootdirectory: {dir}/data}}}}\nhttp: {{addr: 127.0.0.1:{port}}}\n" + issuer.RegistryAuthYaml("test-registry"));
        using var registry = Process.Start(new ProcessStartInfo("docker-registry", ["serve", Path.Combine(dir, "config.yml")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var baseUrl = $"http://127.0.0.1:{port}";
            HttpResponseMessage? challenge = null;
            for (var i = 0; i < 100 && challenge is null; i++)
            {
                try
                {
                    challenge = await http.GetAsync($"{baseUrl}/v2/team/app/tags/list");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(100);
                }
            }

            Assert.NotNull(challenge);
            Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
            var header = challenge.Headers.WwwAuthenticate.ToString();
            Assert.Contains($"realm=\"{issuer.Realm}\"", header);
            Assert.Contains("scope=\"repository:team/app:pull\"", header);

            // Wrong credentials get no token.
            using var denied = new HttpRequestMessage(HttpMethod.Get, $"{issuer.Realm}?service=test-registry&scope=repository:team/app:pull");
            denied.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("alice:nope"u8.ToArray()));
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(denied)).StatusCode);

            using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, $"{issuer.Realm}?service=test-registry&scope=repository:team/app:pull");
            tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("alice:s3cret"u8.ToArray()));
            var tokenResponse = await http.SendAsync(tokenRequest);
            Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
            var token = JsonDocument.Parse(await tokenResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString();

            using var authorized = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/v2/team/app/tags/list");
            authorized.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var answer = await http.SendAsync(authorized);
            // The repository does not exist: 404 NAME_UNKNOWN proves the token was accepted (a rejected one is 401).
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
            Assert.Contains("NAME_UNKNOWN", await answer.Content.ReadAsStringAsync());
        }
        finally
        {
            registry.Kill(entireProcessTree: true);
            await registry.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
