using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P2PRegistry.Core.Content;
using P2PRegistry.Origin.Configuration;
using P2PRegistry.Origin.Diagnostics;
using P2PRegistry.Origin.Registry;
using P2PRegistry.Origin.Storage;

namespace P2PRegistry.Origin.Uploads;

/// <summary>
/// The live upload sessions, and the one place a finished upload becomes a blob. Bounded: at most
/// <c>Origin:MaxUploadSessions</c> sessions, <c>Origin:MaxUploadSessionsPerClient</c> per client address, and
/// <c>Origin:MaxUploadBytesInFlight</c> bytes of unfinished uploads on disk (reserved before each write, released
/// when a session ends). Memory per request is one pooled buffer, so the disk is what these caps protect.
/// </summary>
internal sealed class UploadManager : IDisposable
{
    private readonly ConcurrentDictionary<string, UploadSession> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perClient = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly int _maxSessions;
    private readonly int _maxPerClient;
    private readonly long _maxBytesInFlight;
    private long _bytesInFlight;
    private readonly StorageLayout _layout;
    private readonly BlobStore _blobs;
    private readonly RepositoryStore _repositories;
    private readonly OriginMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly TimeSpan _expiry;
    private readonly ILogger<UploadManager> _logger;
    private readonly Collection.CollectionGate _gc;

    public UploadManager(StorageLayout layout, BlobStore blobs, RepositoryStore repositories, OriginMetrics metrics,
        TimeProvider time, IOptions<OriginOptions> options, ILogger<UploadManager> logger, Collection.CollectionGate gc)
    {
        _gc = gc;
        _layout = layout;
        _blobs = blobs;
        _repositories = repositories;
        _metrics = metrics;
        _time = time;
        _expiry = options.Value.UploadExpiry;
        _maxSessions = options.Value.MaxUploadSessions;
        _maxPerClient = options.Value.MaxUploadSessionsPerClient;
        _maxBytesInFlight = options.Value.MaxUploadBytesInFlight;
        _logger = logger;
    }

    public int Count => _sessions.Count;

    /// <summary>Bytes reserved by unfinished uploads (written, or about to be).</summary>
    public long BytesInFlight => Interlocked.Read(ref _bytesInFlight);

    /// <summary>Bytes a session may still reserve under <c>Origin:MaxUploadBytesInFlight</c>.</summary>
    public long BytesAvailable => _maxBytesInFlight - BytesInFlight;

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

    /// <summary>
    /// A new session for <paramref name="client"/> (its address), or <see cref="UploadLimitException"/> when the
    /// origin or that client has as many open as allowed.
    /// </summary>
    public UploadSession Create(string repository, string client)
    {
        lock (_gate)
        {
            if (_sessions.Count >= _maxSessions)
            {
                _metrics.UploadRefused("sessions");
                throw new UploadLimitException($"the origin has {_maxSessions} uploads open, its limit (Origin:MaxUploadSessions); finish or cancel one, or try again later");
            }

            var open = _perClient.GetValueOrDefault(client);
            if (open >= _maxPerClient)
            {
                _metrics.UploadRefused("client_sessions");
                OriginLog.UploadSessionsPerClientReached(_logger, client, _maxPerClient);
                throw new UploadLimitException($"this client has {_maxPerClient} uploads open, its limit (Origin:MaxUploadSessionsPerClient); finish or cancel one, or try again later");
            }

            var id = Guid.NewGuid().ToString("D");
            var directory = _layout.UploadDirectory(id);
            Directory.CreateDirectory(directory);
            UploadSession session;
            try
            {
                session = new UploadSession(id, repository, client, directory, _time.GetTimestamp());
            }
            catch
            {
                TryDeleteDirectory(directory);
                throw;
            }

            _perClient[client] = open + 1;
            _sessions[id] = session;
            return session;
        }
    }

    /// <summary>Reserves <paramref name="count"/> more bytes for <paramref name="session"/>; false when that would pass the in-flight limit.</summary>
    public bool TryReserve(UploadSession session, long count)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _bytesInFlight);
            if (current + count > _maxBytesInFlight)
            {
                _metrics.UploadRefused("bytes_in_flight");
                return false;
            }

            if (Interlocked.CompareExchange(ref _bytesInFlight, current + count, current) == current)
            {
                if (!session.TryAddReserved(count))
                {
                    // The session was removed meanwhile: the bytes go back rather than stay counted for nobody.
                    Interlocked.Add(ref _bytesInFlight, -count);
                    return false;
                }

                return true;
            }
        }
    }

    /// <summary>The session, if it exists and belongs to <paramref name="repository"/>.</summary>
    public UploadSession? Find(string id, string repository) =>
        _sessions.TryGetValue(id, out var session) && session.Repository == repository ? session : null;

    /// <summary>Ends the session: its partial data is deleted and its count and bytes released (once, however often called).</summary>
    public void Remove(UploadSession session)
    {
        if (_sessions.TryRemove(new KeyValuePair<string, UploadSession>(session.Id, session)))
        {
            lock (_gate)
            {
                var open = _perClient.GetValueOrDefault(session.Client) - 1;
                if (open <= 0)
                {
                    _perClient.Remove(session.Client);
                }
                else
                {
                    _perClient[session.Client] = open;
                }
            }
        }

        session.Dispose();
        TryDeleteDirectory(session.Directory);
        var reserved = session.ReleaseReserved();
        if (reserved != 0)
        {
            Interlocked.Add(ref _bytesInFlight, -reserved);
        }
    }

    private static void TryDeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
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

        // Committed and linked under a pin: garbage collection cannot take the blob between the two (Collection/CollectionGate).
        using var pin = _gc.Hold(actual);
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

/// <summary>An upload refused by a session or byte limit: 429, which clients retry after <c>Retry-After</c>.</summary>
internal sealed class UploadLimitException(string message) : Exception(message)
{
}
