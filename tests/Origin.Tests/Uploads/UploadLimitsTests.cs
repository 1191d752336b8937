using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Uploads;

namespace P2PRegistry.Origin.Tests.Uploads;

/// <summary>
/// Uploads under abuse: many sessions from one address and in total (429 + Retry-After), more unfinished bytes
/// than the in-flight budget, and a manifest PUT that declares far more than it sends. A second client address is
/// 127.0.0.2 (Linux routes all of 127/8 to lo).
/// </summary>
public sealed class UploadLimitsTests
{
    [Fact]
    public async Task ManySessionsFromOneAddress_BeyondThePerClientCap_Get429_OtherAddressesAreNotAffected()
    {
        await using var origin = await OriginServer.StartAsync(["--Origin:MaxUploadSessionsPerClient=3", "--Origin:MaxUploadSessions=10"]);
        var first = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            first.Add(await origin.StartUploadAsync("limits/one"));
        }

        for (var i = 0; i < 5; i++)
        {
            using var refused = await origin.Client.PostAsync("/v2/limits/one/blobs/uploads/", null);
            await OriginServer.AssertErrorAsync(refused, HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
            Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }

        // A single-request upload needs a session too.
        var blob = OriginServer.RandomBytes(100, 3);
        using (var single = await origin.Client.PostAsync($"/v2/limits/one/blobs/uploads/?digest={Digest.Compute(blob).Value}", OriginServer.Bytes(blob)))
        {
            await OriginServer.AssertErrorAsync(single, HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
        }

        using (var other = ClientFrom(origin, 2))
        using (var post = await other.PostAsync("/v2/limits/two/blobs/uploads/", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
        }

        Assert.Equal(4, origin.Services.GetRequiredService<UploadManager>().Count);

        // Cancelling one frees its place.
        using (var cancel = await origin.Client.DeleteAsync(first[0]))
        {
            Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);
        }

        await origin.StartUploadAsync("limits/one");
    }

    [Fact]
    public async Task SessionsFromManyAddresses_BeyondTheTotalCap_Get429()
    {
        await using var origin = await OriginServer.StartAsync(["--Origin:MaxUploadSessionsPerClient=2", "--Origin:MaxUploadSessions=5"]);
        var accepted = 0;
        var refused = 0;
        for (byte x = 1; x <= 4; x++)
        {
            using var client = ClientFrom(origin, x);
            for (var i = 0; i < 2; i++)
            {
                using var post = await client.PostAsync($"/v2/limits/many{x}/blobs/uploads/", null);
                if (post.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted++;
                }
                else
                {
                    await OriginServer.AssertErrorAsync(post, HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
                    refused++;
                }
            }
        }

        Assert.Equal(5, accepted);
        Assert.Equal(3, refused);
        Assert.Equal(5, origin.Services.GetRequiredService<UploadManager>().Count);
    }

    [Fact]
    public async Task UnfinishedBytesBeyondTheInFlightBudget_AreRefusedBeforeTheyAreWritten_AndFreedByCompletion()
    {
        const int budget = 1024 * 1024;
        await using var origin = await OriginServer.StartAsync([$"--Origin:MaxUploadBytesInFlight={budget}"]);
        var uploads = origin.Services.GetRequiredService<UploadManager>();
        var a = OriginServer.RandomBytes(600 * 1024, 11);
        var b = OriginServer.RandomBytes(600 * 1024, 12);

        var sessionA = await origin.StartUploadAsync("limits/bytes");
        using (var patch = await origin.Client.PatchAsync(sessionA, OriginServer.Bytes(a)))
        {
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        }

        var sessionB = await origin.StartUploadAsync("limits/bytes");
        using (var declared = await origin.Client.PatchAsync(sessionB, OriginServer.Bytes(b)))
        {
            await OriginServer.AssertErrorAsync(declared, HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
        }

        // Without a Content-Length the body is refused as it streams, before the write that would pass the budget.
        using (var chunked = await origin.Client.PatchAsync(sessionB, new StreamContent(new MemoryStream(b)) { Headers = { ContentLength = null } }))
        {
            await OriginServer.AssertErrorAsync(chunked, HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
        }

        Assert.Equal(a.Length, uploads.BytesInFlight);
        Assert.Equal(0, new FileInfo(Path.Combine(SessionDirectory(origin, sessionB), "data")).Length);

        using (var complete = await origin.Client.PutAsync($"{sessionA}?digest={Digest.Compute(a).Value}", null))
        {
            Assert.Equal(HttpStatusCode.Created, complete.StatusCode);
        }

        Assert.Equal(0, uploads.BytesInFlight);
        using (var retried = await origin.Client.PatchAsync(sessionB, OriginServer.Bytes(b)))
        {
            Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
        }

        using (var cancel = await origin.Client.DeleteAsync(sessionB))
        {
            Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode);
        }

        Assert.Equal(0, uploads.BytesInFlight);
    }

    [Fact]
    public async Task ManifestPut_Declaring4GBAndSending10Bytes_IsRefusedAtOnce()
    {
        await using var origin = await OriginServer.StartAsync();
        var response = await RawRequestAsync(origin, "PUT /v2/limits/manifest/manifests/v1 HTTP/1.1", 4L * 1024 * 1024 * 1024, "{\"a\":1234}"u8.ToArray(), closeSend: false);
        Assert.StartsWith("HTTP/1.1 413", response, StringComparison.Ordinal);
        Assert.Contains("SIZE_INVALID", response, StringComparison.Ordinal);
    }

    private static HttpClient ClientFrom(OriginServer origin, byte x) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(new IPAddress([127, 0, 0, x]), 0));
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
        BaseAddress = origin.BaseAddress,
        Timeout = TimeSpan.FromSeconds(60),
    };

    private static string SessionDirectory(OriginServer origin, string location) =>
        Path.Combine(origin.StoragePath, "uploads", location[(location.LastIndexOf('/') + 1)..]);

    /// <summary>Sends a request head with any Content-Length and some body bytes; returns the response as text.</summary>
    internal static async Task<string> RawRequestAsync(OriginServer origin, string requestLine, long contentLength, byte[] body, bool closeSend)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(origin.BaseAddress.Host, origin.BaseAddress.Port);
        var stream = client.GetStream();
        var head = $"{requestLine}\r\nHost: {origin.BaseAddress.Authority}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {contentLength}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);
        if (closeSend)
        {
            client.Client.Shutdown(SocketShutdown.Send);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var received = new MemoryStream();
        var buffer = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
            var text = Encoding.ASCII.GetString(received.ToArray());
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0 && System.Text.RegularExpressions.Regex.Match(text, @"Content-Length: (\d+)", System.Text.RegularExpressions.RegexOptions.IgnoreCase) is { Success: true } m
                && received.Length >= end + 4 + long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            {
                break;
            }
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }
}

[CollectionDefinition(nameof(ManifestAllocationTests), DisableParallelization = true)]
public sealed class ManifestAllocationCollection;

/// <summary>Measures the whole process's allocations, so it runs alone.</summary>
[Collection(nameof(ManifestAllocationTests))]
public sealed class ManifestAllocationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task ManifestPut_Declaring60MBAndSending10Bytes_AllocatesNothingLikeTheDeclaredLength()
    {
        const long declared = 60L * 1024 * 1024;
        await using var origin = await OriginServer.StartAsync(["--Origin:MaxManifestBytes=67108864"]);
        // Warm up the path (JIT, pools) so the measurement is of the request alone: a whole body, answered on an open
        // connection (a body cut short by a half-close may be answered with a reset under load).
        var warmUp = await UploadLimitsTests.RawRequestAsync(origin, "PUT /v2/limits/alloc/manifests/v0 HTTP/1.1", 10, "{\"a\":1234}"u8.ToArray(), closeSend: false);
        Assert.StartsWith("HTTP/1.1 ", warmUp, StringComparison.Ordinal);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        // The connection stays open: the origin waits for the rest until Kestrel's minimum data rate (240 B/s after
        // a 5 s grace) gives up on the request, and answers that with an error body.
        var response = await UploadLimitsTests.RawRequestAsync(origin, "PUT /v2/limits/alloc/manifests/v1 HTTP/1.1", declared, "{\"a\":1234}"u8.ToArray(), closeSend: false);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        output.WriteLine($"allocated {allocated} bytes (whole process) for a 10-byte body declared as {declared}");

        Assert.StartsWith("HTTP/1.1 4", response, StringComparison.Ordinal);
        // Before the fix the buffer alone was the declared 60 MB.
        Assert.True(allocated < 8 * 1024 * 1024, $"allocated {allocated} bytes for a 10-byte body declared as {declared}");
    }
}
