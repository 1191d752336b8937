using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;

namespace P2PRegistry.Swarm.Transport;

/// <summary>
/// One peer connection over TLS (<see cref="PeerTls"/>): the same pipes and loops as <see cref="PeerSocketConnection"/>,
/// reading and writing an <see cref="SslStream"/> over the socket instead of the socket itself. The handshake comes
/// first (<see cref="AuthenticateAsServerAsync"/> or <see cref="AuthenticateAsClientAsync"/>), bounded by a timeout, then
/// <see cref="Start"/>.
/// </summary>
internal sealed class PeerTlsConnection : IPeerConnection
{
    private const long InputPauseBytes = 1024 * 1024;
    private const long OutputPauseBytes = 512 * 1024;
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);

    private readonly Socket _socket;
    private readonly SslStream _stream;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _closed = new();
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private int _disposed;

    /// <param name="socket">A connected socket; the connection owns it.</param>
    public PeerTlsConnection(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        socket.NoDelay = true;
        try
        {
            RemoteEndPoint = socket.RemoteEndPoint;
        }
        catch (SocketException)
        {
            RemoteEndPoint = null;
        }

        _stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        _input = new Pipe(Options(InputPauseBytes));
        _output = new Pipe(Options(OutputPauseBytes));
    }

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output.Writer;

    public EndPoint? RemoteEndPoint { get; }

    public CancellationToken ConnectionClosed => _closed.Token;

    /// <summary>The peer's certificate once the handshake is done.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate? RemoteCertificate => _stream.RemoteCertificate;

    /// <exception cref="PeerTlsException">The handshake failed or did not finish within <paramref name="timeout"/>.</exception>
    public Task AuthenticateAsServerAsync(SslServerAuthenticationOptions options, TimeSpan timeout, CancellationToken cancellationToken) =>
        HandshakeAsync((stream, token) => stream.AuthenticateAsServerAsync(options, token), timeout, cancellationToken);

    /// <exception cref="PeerTlsException">The handshake failed or did not finish within <paramref name="timeout"/>.</exception>
    public Task AuthenticateAsClientAsync(SslClientAuthenticationOptions options, TimeSpan timeout, CancellationToken cancellationToken) =>
        HandshakeAsync((stream, token) => stream.AuthenticateAsClientAsync(options, token), timeout, cancellationToken);

    public void Start()
    {
        _receiving = ReceiveLoopAsync();
        _sending = SendLoopAsync();
    }

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

        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        try
        {
            await _sending.WaitAsync(DrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A peer that does not read is not waited for.
        }

        _socket.Dispose();
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        await _receiving.ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _closed.Dispose();
    }

    private async Task HandshakeAsync(Func<SslStream, CancellationToken, Task> authenticate, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            await authenticate(_stream, bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PeerTlsException($"No TLS handshake with {RemoteEndPoint} within {timeout}.", ex);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException or ObjectDisposedException)
        {
            throw new PeerTlsException($"TLS handshake with {RemoteEndPoint} failed: {ex.Message}", ex);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var writer = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(PeerSocketConnection.MinimumReceive);
                var received = await _stream.ReadAsync(memory).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                writer.Advance(received);
                var flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or AuthenticationException)
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
                    // Each segment becomes TLS records of up to 16 KiB; a flush's segments are written back to back.
                    foreach (var segment in buffer)
                    {
                        await _stream.WriteAsync(segment).ConfigureAwait(false);
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

            // All written: close_notify, then the end of the stream.
            await _stream.ShutdownAsync().ConfigureAwait(false);
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            error = Translate(exception);
            SignalClosed();
        }
        finally
        {
            await reader.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    private static Exception Translate(Exception exception) => exception switch
    {
        ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted }
            => new ConnectionAbortedException($"The peer connection was closed: {exception.Message}", exception),
        _ => new ConnectionResetException(exception.Message, exception),
    };

    private void SignalClosed() =>
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.TryCancel(), this, preferLocal: false);

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

    private static PipeOptions Options(long pauseBytes) => new(
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.ThreadPool,
        pauseWriterThreshold: pauseBytes,
        resumeWriterThreshold: pauseBytes / 2,
        minimumSegmentSize: PeerSocketConnection.SegmentSize,
        useSynchronizationContext: false);
}
