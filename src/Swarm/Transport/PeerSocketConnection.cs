using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace P2PRegistry.Swarm.Transport;

/// <summary>
/// One peer connection: a TCP socket as the <see cref="IDuplexPipe"/> a peer session reads and writes, moved by
/// a receive loop and a send loop of its own.
/// </summary>
/// <remarks>
/// Why not Kestrel's socket transport (what the peer port first ran on): a peer connection is a bulk stream,
/// and Kestrel's is built for many small requests. It receives into 4 KiB pool blocks, so a 16 KiB block took
/// four receive calls and four pipe wake-ups, and it hands every read to the thread pool before the session sees
/// it. Here a receive takes whatever the socket holds, up to a 64 KiB segment, and the session's read loop runs
/// on the thread that completed the receive (the input pipe's reader is scheduled inline); a flush of the
/// session's writes sends on the flushing thread. At 12 peers on two cores that was the Agent's largest cost.
/// A connection on which nothing is waiting holds no receive segment: the receive loop first waits for data with
/// a zero-byte receive (as Kestrel does), so an idle socket (a pending handshake, a quiet session) costs a socket
/// and a few small objects, not a pinned 64 KiB segment.
/// </remarks>
internal sealed class PeerSocketConnection : IPeerConnection
{
    /// <summary>A receive is offered at least this much of a segment; a new segment is taken below it.</summary>
    internal const int MinimumReceive = 16 * 1024;

    internal const int SegmentSize = 64 * 1024;

    // Unread input past this stops the receive loop, so TCP slows the sender (the session's ingress limit
    // works the same way); unsent output past it makes the session's flush wait.
    private const long InputPauseBytes = 1024 * 1024;
    private const long OutputPauseBytes = 512 * 1024;

    /// <summary>How long a closing connection may take to send what the session still wrote.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);

    private readonly Socket _socket;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _closed = new();
    private readonly List<ArraySegment<byte>> _sendSegments = [];
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private int _disposed;

    public PeerSocketConnection(Socket socket)
        : this(socket, pool: null)
    {
    }

    /// <param name="socket">A connected socket; the connection owns it.</param>
    /// <param name="pool">Where both pipes take their segments (tests count them); null: the shared pool.</param>
    internal PeerSocketConnection(Socket socket, MemoryPool<byte>? pool)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        socket.NoDelay = true;
        RemoteEndPoint = RemoteOf(socket);
        _input = new Pipe(PipeOptionsPausingAt(InputPauseBytes, pool));
        _output = new Pipe(PipeOptionsPausingAt(OutputPauseBytes, pool));
    }

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output.Writer;

    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Receive calls that returned data (read by tests once the connection is quiet).</summary>
    internal int Receives { get; private set; }

    /// <summary>Cancelled when the peer closed the connection, it broke, or it was aborted.</summary>
    public CancellationToken ConnectionClosed => _closed.Token;

    /// <summary>Starts moving bytes; call once, before the session reads or writes.</summary>
    public void Start()
    {
        _receiving = ReceiveLoopAsync();
        _sending = SendLoopAsync();
    }

    /// <summary>Closes the socket at once: both loops end and the session sees the connection aborted.</summary>
    public void Abort()
    {
        _socket.Dispose();
        SignalClosed();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // The session has finished with the pipes (or never started); what it wrote last still goes out.
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        try
        {
            await _sending.WaitAsync(DrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A peer that does not read is not waited for.
        }

        // Completing the reader also ends a receive loop parked in a paused flush (unread input past the limit).
        _socket.Dispose();
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        await _receiving.ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        _closed.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var writer = _input.Writer;
        Exception? error = null;
        try
        {
            var socketDrained = true;
            while (true)
            {
                // Wait for data before taking a segment: the segment of a socket with nothing to read would stay
                // pinned to the pending receive. Skipped after a receive that filled all it was offered, since more
                // is most likely waiting (a bulk stream then costs no extra call per segment).
                if (socketDrained)
                {
                    await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                }

                var memory = writer.GetMemory(MinimumReceive);
                var received = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                socketDrained = received < memory.Length;
                Receives++;
                writer.Advance(received);
                var flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            error = Translate(exception);
        }
        finally
        {
            await writer.CompleteAsync(error).ConfigureAwait(false);
            SignalClosed();
        }
    }

    private async Task SendLoopAsync()
    {
        var reader = _output.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    if (!buffer.IsEmpty)
                    {
                        await SendAsync(buffer).ConfigureAwait(false);
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            // All written: the peer sees the end of the stream.
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            error = Translate(exception);
            SignalClosed();
        }
        finally
        {
            await reader.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    private async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            await _socket.SendAsync(buffer.First, SocketFlags.None).ConfigureAwait(false);
            return;
        }

        // One gathering send for the whole flush; the pipe's segments are pooled arrays.
        _sendSegments.Clear();
        foreach (var segment in buffer)
        {
            if (!MemoryMarshal.TryGetArray(segment, out var array))
            {
                _sendSegments.Clear();
                foreach (var piece in buffer)
                {
                    await _socket.SendAsync(piece, SocketFlags.None).ConfigureAwait(false);
                }

                return;
            }

            _sendSegments.Add(array);
        }

        await _socket.SendAsync(_sendSegments, SocketFlags.None).ConfigureAwait(false);
        _sendSegments.Clear();
    }

    /// <summary>
    /// Our own abort (the socket closed under a pending call) is an aborted connection; every socket error is an
    /// I/O failure of the connection (<see cref="ConnectionResetException"/> is an <see cref="IOException"/>), so a
    /// handshake that breaks is not mistaken for one that timed out.
    /// </summary>
    private static Exception Translate(Exception exception) => exception switch
    {
        ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted }
            => new ConnectionAbortedException($"The peer connection was closed: {exception.Message}", exception),
        _ => new ConnectionResetException(exception.Message, exception),
    };

    private void SignalClosed()
    {
        // Off this thread: the token's callbacks end the session, which may be running on this very stack.
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.TryCancel(), this, preferLocal: false);
    }

    private void TryCancel()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: nobody is waiting on the token any more.
        }
        catch (AggregateException)
        {
            // A session's cancellation callback failed while it ended; on the thread pool it would end the process.
        }
    }

    // Both readers run inline (the session's read loop on the receiving thread, the send loop on the flushing
    // thread); a paused writer resumes on the thread pool.
    private static PipeOptions PipeOptionsPausingAt(long pauseBytes, MemoryPool<byte>? pool) => new(
        pool: pool,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.ThreadPool,
        pauseWriterThreshold: pauseBytes,
        resumeWriterThreshold: pauseBytes / 2,
        minimumSegmentSize: SegmentSize,
        useSynchronizationContext: false);

    private static EndPoint? RemoteOf(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
