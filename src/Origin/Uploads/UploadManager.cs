using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.Registry;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Uploads;

/// <summary>The live upload sessions, and the one place a finished upload becomes a blob.</summary>
internal sealed class UploadManager : IDisposable
{
    private readonly ConcurrentDictionary<string, UploadSession> _sessions = new(StringComparer.Ordinal);
    private readonly StorageLayout _layout;
    private readonly BlobStore _blobs;
    private readonly RepositoryStore _repositories;
    private readonly OriginMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly TimeSpan _expiry;
    private readonly ILogger<UploadManager> _logger;

    public UploadManager(StorageLayout layout, BlobStore blobs, RepositoryStore repositories, OriginMetrics metrics,
        TimeProvider time, IOptions<OriginOptions> options, ILogger<UploadManager> logger)
    {
        _layout = layout;
        _blobs = blobs;
        _repositories = repositories;
        _metrics = metrics;
        _time = time;
        _expiry = options.Value.UploadExpiry;
        _logger = logger;
    }

    public int Count => _sessions.Count;

    /// <summary>
    /// Wipes <c>uploads/</c>: sessions live in memory, so whatever a previous process left there can never
    /// be resumed (its clients get 404 BLOB_UPLOAD_UNKNOWN and start over).
    /// </summary>
    public int RemoveLeftovers()
    {
        Directory.CreateDirectory(_layout.Uploads);
        var removed = 0;
        foreach (var entry in new DirectoryInfo(_layout.Uploads).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo directory)
            {
                directory.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }

            removed++;
        }

        return removed;
    }

    public UploadSession Create(string repository)
    {
        var id = Guid.NewGuid().ToString("D");
        var directory = _layout.UploadDirectory(id);
        Directory.CreateDirectory(directory);
        var session = new UploadSession(id, repository, directory, _time.GetTimestamp());
        _sessions[id] = session;
        return session;
    }

    /// <summary>The session, if it exists and belongs to <paramref name="repository"/>.</summary>
    public UploadSession? Find(string id, string repository) =>
        _sessions.TryGetValue(id, out var session) && session.Repository == repository ? session : null;

    public void Remove(UploadSession session)
    {
        _sessions.TryRemove(new KeyValuePair<string, UploadSession>(session.Id, session));
        session.Dispose();
        try
        {
            Directory.Delete(session.Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>
    /// Verifies the upload against the digest the client claims, then makes it durable and visible.
    /// A mismatch stores nothing and ends the session. The steps after verification ignore client
    /// cancellation: once the bytes are known good, they are committed.
    /// </summary>
    public async Task<(Digest Digest, long Length)> CompleteAsync(UploadSession session, Digest expected)
    {
        var actual = session.FinishDigest();
        if (actual != expected)
        {
            Remove(session);
            _metrics.DigestMismatch();
            OriginLog.DigestMismatch(_logger, session.Id, session.Repository, expected.Value, actual.Value);
            throw new RegistryException(RegistryError.DigestInvalid, "provided digest did not match uploaded content", $"expected {expected.Value}, content is {actual.Value}");
        }

        try
        {
            session.Flush();
            var metaInfo = session.TryFinishMetaInfo(actual)
                ?? await _blobs.HashFileAsync(session.DataPath, actual, session.Length, "piece length differs from the streamed guess", CancellationToken.None).ConfigureAwait(false);
            await _blobs.CommitAsync(session.DataPath, actual, metaInfo, CancellationToken.None).ConfigureAwait(false);
            await _repositories.LinkBlobAsync(session.Repository, actual, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            Remove(session);
        }

        _metrics.UploadCompleted();
        OriginLog.BlobStored(_logger, actual.Value, session.Length, session.Repository);
        return (actual, session.Length);
    }

    /// <summary>Removes sessions idle longer than the expiry (never one with a request in flight).</summary>
    public int ExpireIdle()
    {
        var now = _time.GetTimestamp();
        var expired = 0;
        foreach (var session in _sessions.Values)
        {
            var idle = _time.GetElapsedTime(session.LastActivity, now);
            if (idle >= _expiry && session.TryEnter())
            {
                Remove(session);
                OriginLog.UploadExpired(_logger, session.Id, session.Repository, idle);
                expired++;
            }
        }

        return expired;
    }

    public void Dispose()
    {
        foreach (var session in _sessions.Values)
        {
            session.Dispose();
        }

        _sessions.Clear();
    }
}
