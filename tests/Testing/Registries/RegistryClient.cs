using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace P2PRegistry.Testing.Registries;

/// <summary>
/// The few raw v2 API calls tests make themselves (where skopeo cannot be steered): start an upload, PATCH, PUT,
/// HEAD and GET blobs and manifests. Thin on purpose: it returns the responses, the test asserts on them.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    private readonly HttpClient _http;

    public RegistryClient(Uri baseAddress, string? username = null, string? password = null)
    {
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromMinutes(3),
        };
        if (username is not null)
        {
            var token = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{username}:{password}"));
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", token);
        }
    }

    public HttpClient Http => _http;

    /// <summary><c>POST /v2/&lt;name&gt;/blobs/uploads/</c>; returns the response (202 + Location expected).</summary>
    public Task<HttpResponseMessage> StartUploadAsync(string repository, CancellationToken cancellationToken = default) =>
        _http.PostAsync($"/v2/{repository}/blobs/uploads/", content: null, cancellationToken);

    /// <summary>Starts an upload and returns its absolute Location; throws unless the registry answered 202.</summary>
    public async Task<Uri> StartUploadOrThrowAsync(string repository, CancellationToken cancellationToken = default)
    {
        using var response = await StartUploadAsync(repository, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Accepted || response.Headers.Location is null)
        {
            throw new HttpRequestException($"POST /v2/{repository}/blobs/uploads/ answered {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
        }

        return Resolve(response.Headers.Location);
    }

    public Task<HttpResponseMessage> PatchAsync(Uri location, HttpContent content, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = content };
        return _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary><c>PUT &lt;location&gt;?digest=…</c> closing an upload (with an optional last part of the body).</summary>
    public Task<HttpResponseMessage> PutDigestAsync(Uri location, string digest, HttpContent? content = null, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, WithQuery(location, "digest", digest))
        {
            Content = content ?? new ByteArrayContent([]),
        };
        return _http.SendAsync(request, cancellationToken);
    }

    /// <summary>A whole upload the way skopeo does it: POST, one PATCH with the file, PUT ?digest=. Returns the PUT's status.</summary>
    public async Task<HttpStatusCode> UploadFileAsync(string repository, string path, string digest, CancellationToken cancellationToken = default)
    {
        var location = await StartUploadOrThrowAsync(repository, cancellationToken).ConfigureAwait(false);
        using (var patch = await PatchAsync(location, new Http.FileRangeContent(path), cancellationToken).ConfigureAwait(false))
        {
            if (patch.StatusCode != HttpStatusCode.Accepted)
            {
                return patch.StatusCode;
            }

            location = patch.Headers.Location is null ? location : Resolve(patch.Headers.Location);
        }

        using var put = await PutDigestAsync(location, digest, cancellationToken: cancellationToken).ConfigureAwait(false);
        return put.StatusCode;
    }

    /// <summary>A small blob in one request (<c>POST</c>, then <c>PUT ?digest=</c> with the bytes); returns its digest, throws unless 201.</summary>
    public async Task<string> UploadBytesAsync(string repository, byte[] content, CancellationToken cancellationToken = default)
    {
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        var location = await StartUploadOrThrowAsync(repository, cancellationToken).ConfigureAwait(false);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await PutDigestAsync(location, digest, body, cancellationToken).ConfigureAwait(false);
        if (put.StatusCode != HttpStatusCode.Created)
        {
            throw new HttpRequestException($"PUT of blob {digest} to {repository} answered {(int)put.StatusCode} {await put.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
        }

        return digest;
    }

    /// <summary><c>PUT /v2/&lt;name&gt;/manifests/&lt;reference&gt;</c> with exactly these bytes and Content-Type; returns the response.</summary>
    public Task<HttpResponseMessage> PutManifestAsync(string repository, string reference, byte[] body, string mediaType, CancellationToken cancellationToken = default)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return _http.SendAsync(new HttpRequestMessage(HttpMethod.Put, $"/v2/{repository}/manifests/{reference}") { Content = content }, cancellationToken);
    }

    public Task<HttpResponseMessage> HeadBlobAsync(string repository, string digest, CancellationToken cancellationToken = default) =>
        _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}"), cancellationToken);

    public Task<HttpResponseMessage> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken = default) =>
        _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/manifests/{reference}"), cancellationToken);

    /// <summary>GETs a blob and returns the sha256 of what came back (<c>sha256:&lt;hex&gt;</c>) and its length.</summary>
    public async Task<(string Digest, long Length)> GetBlobDigestAsync(string repository, string digest, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync($"/v2/{repository}/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long length = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            length += read;
        }

        return ("sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset()), length);
    }

    /// <summary>A Location header may be relative (docker-registry sends absolute ones); make it absolute.</summary>
    public Uri Resolve(Uri location) => location.IsAbsoluteUri ? location : new Uri(_http.BaseAddress!, location);

    public static Uri WithQuery(Uri location, string name, string value)
    {
        var separator = string.IsNullOrEmpty(location.Query) ? "?" : "&";
        return new Uri(location.AbsoluteUri + separator + name + "=" + Uri.EscapeDataString(value));
    }

    public void Dispose() => _http.Dispose();
}
