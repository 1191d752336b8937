using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace P2PRegistry.Integration.Tests.Origin;

/// <summary>
/// Push users from an htpasswd file written by the real <c>htpasswd -B</c>, each under its repository prefixes,
/// against the origin as a process: skopeo pushes with <c>--dest-creds</c> inside the prefix, is refused with a wrong
/// password (401) and outside the prefix (403); a brute force from another address is throttled (429) while skopeo
/// from its own address keeps working.
/// </summary>
[Trait("Category", TestCategories.Integration)]
public sealed class PushUsersTests(ITestOutputHelper output) : IDisposable
{
    private const string AlicePassword = "alice-Pw-0";
    private const string BobPassword = "bob-Pw-1";
    private readonly TempDirectory _temp = new("push-users");
    private readonly List<string> _originLog = [];

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task SkopeoWithCreds_InsidePrefix_Pushes_WrongPassword401_OutsidePrefix403_BruteForceThrottled()
    {
        var image = (await TestImages.GetAsync()).SmallAmd64;
        var htpasswd = await Htpasswd.WriteAsync(_temp.Combine("users.htpasswd"), [("alice", AlicePassword), ("bob", BobPassword)]);
        await using var origin = await OriginProcess.StartAsync(new OriginOptions
        {
            HtpasswdFile = htpasswd,
            PushUsers = new Dictionary<string, string[]> { ["alice"] = ["team/"], ["bob"] = ["tools/", "shared/base"] },
            ExtraArguments = ["--Origin:Push:MaxFailedAttempts=5", "--Origin:Push:FailureWindow=00:10:00"],
            OnOutputLine = line =>
            {
                lock (_originLog)
                {
                    _originLog.Add(line);
                }

                output.WriteLine($"[origin] {line}");
            },
        });
        var alice = new SkopeoCredentials("alice", AlicePassword);

        // Inside the prefix: pushed, and pulled back anonymously byte for byte.
        var digest = await Skopeo.PushAsync(image.Reference, Skopeo.Docker(origin.Host, "team/app", "v1"), new SkopeoCopyOptions { PreserveDigests = true, DestinationCredentials = alice });
        Assert.Equal(image.ManifestDigest, digest);
        var copy = _temp.Combine("pulled");
        await Skopeo.CopyOrThrowAsync(Skopeo.Docker(origin.Host, "team/app", "v1"), Skopeo.Dir(copy));
        var pulled = DirImageLayout.Open(copy);
        Assert.Equal(image.ManifestDigest, pulled.ManifestDigest());
        Assert.Empty(pulled.Problems());

        // A wrong password: 401.
        var wrong = await Skopeo.CopyAsync(image.Reference, Skopeo.Docker(origin.Host, "team/app", "v2"), new SkopeoCopyOptions { PreserveDigests = true, DestinationCredentials = new SkopeoCredentials("alice", "not-" + AlicePassword) });
        output.WriteLine($"[test] skopeo, wrong password: {wrong.StandardError}");
        Assert.False(wrong.Succeeded, "a wrong password was accepted");
        Assert.Contains("unauthorized: authentication required", wrong.StandardError, StringComparison.Ordinal);

        // Outside the prefix ('team/' does not cover 'teamster/'): 403 DENIED.
        var outside = await Skopeo.CopyAsync(image.Reference, Skopeo.Docker(origin.Host, "teamster/app", "v1"), new SkopeoCopyOptions { PreserveDigests = true, DestinationCredentials = alice });
        output.WriteLine($"[test] skopeo, outside the prefix: {outside.StandardError}");
        Assert.False(outside.Succeeded, "a push outside the user's prefixes was accepted");
        Assert.Contains("denied", outside.StandardError, StringComparison.OrdinalIgnoreCase);
        using (var http = new HttpClient { BaseAddress = origin.BaseAddress, Timeout = TimeSpan.FromSeconds(30) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/teamster/app/blobs/uploads/");
            request.Headers.Authorization = Basic("alice", AlicePassword);
            using var denied = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Contains("\"DENIED\"", await denied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A brute force from 127.0.0.2: five wrong guesses are checked (401), then 429 with Retry-After, even for the right password.
        using (var attacker = FromAddress(IPAddress.Parse("127.0.0.2"), origin.BaseAddress))
        {
            var statuses = new List<HttpStatusCode>();
            for (var guess = 0; guess < 20; guess++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/team/app/blobs/uploads/");
                request.Headers.Authorization = Basic("alice", $"guess-{guess}");
                using var response = await attacker.SendAsync(request);
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Assert.Contains("TOOMANYREQUESTS", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                    Assert.InRange(response.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
                }
            }

            output.WriteLine($"[test] brute force: {string.Join(" ", statuses.Select(s => (int)s))}");
            Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 15)), statuses);
            using var right = new HttpRequestMessage(HttpMethod.Post, "/v2/team/app/blobs/uploads/");
            right.Headers.Authorization = Basic("alice", AlicePassword);
            using var refused = await attacker.SendAsync(right);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }

        // skopeo from 127.0.0.1 is another client: bob pushes under his prefixes as if nothing happened.
        await Skopeo.PushAsync(image.Reference, Skopeo.Docker(origin.Host, "shared/base", "v1"), new SkopeoCopyOptions { PreserveDigests = true, DestinationCredentials = new SkopeoCredentials("bob", BobPassword) });
        Assert.Equal(["v1"], await Skopeo.ListTagsAsync($"docker://{origin.Host}/shared/base"));

        lock (_originLog)
        {
            Assert.Contains(_originLog, l => l.Contains("127.0.0.2", StringComparison.Ordinal) && l.Contains("refused for", StringComparison.Ordinal));
            Assert.DoesNotContain(_originLog, l => l.Contains(AlicePassword, StringComparison.Ordinal) || l.Contains(BobPassword, StringComparison.Ordinal) || l.Contains("guess-", StringComparison.Ordinal));
        }
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    /// <summary>A client whose connections come from <paramref name="local"/> (any 127.0.0.x is loopback on Linux).</summary>
    private static HttpClient FromAddress(IPAddress local, Uri baseAddress) =>
        new(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
}
