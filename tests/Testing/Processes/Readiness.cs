using System.Net;
using System.Net.Sockets;

namespace P2PRegistry.Testing.Processes;

/// <summary>How to tell that a started program is ready to serve.</summary>
public abstract class Readiness
{
    /// <summary>Ready as soon as it is started (nothing to wait for).</summary>
    public static Readiness None { get; } = new NoReadiness();

    /// <summary>Ready when a GET of <paramref name="url"/> answers 200.</summary>
    public static Readiness HttpOk(Uri url) => new HttpReadiness(url, [HttpStatusCode.OK]);

    /// <summary>Ready when a GET of <paramref name="url"/> answers any of <paramref name="statusCodes"/> (e.g. 200 or 401 behind auth).</summary>
    public static Readiness HttpStatus(Uri url, params HttpStatusCode[] statusCodes) => new HttpReadiness(url, statusCodes);

    /// <summary>Ready when a GET of <paramref name="url"/> through <paramref name="client"/> answers 200 (https with a test CA: <c>TestCertificateAuthority.CreateHttpClient</c>).</summary>
    public static Readiness HttpOk(Uri url, HttpClient client) => new HttpReadiness(url, [HttpStatusCode.OK], client);

    /// <summary>Ready when 127.0.0.1:<paramref name="port"/> accepts a TCP connection.</summary>
    public static Readiness TcpPort(int port) => new TcpReadiness(port);

    /// <summary>Ready when the unix socket at <paramref name="path"/> exists and accepts a connection.</summary>
    public static Readiness UnixSocket(string path) => new UnixSocketReadiness(path);

    /// <summary>One probe; false means "not yet", never throws for a refused connection.</summary>
    public abstract Task<bool> ProbeAsync(CancellationToken cancellationToken);

    public abstract override string ToString();

    private sealed class NoReadiness : Readiness
    {
        public override Task<bool> ProbeAsync(CancellationToken cancellationToken) => Task.FromResult(true);

        public override string ToString() => "started";
    }

    private sealed class HttpReadiness(Uri url, HttpStatusCode[] statusCodes, HttpClient? client = null) : Readiness
    {
        private static readonly HttpClient s_client = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero })
        {
            Timeout = TimeSpan.FromSeconds(5),
        };

        public override async Task<bool> ProbeAsync(CancellationToken cancellationToken)
        {
            try
            {
                using var response = await (client ?? s_client).GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                return statusCodes.Contains(response.StatusCode);
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        public override string ToString() => $"GET {url} answers {string.Join(" or ", statusCodes.Select(c => (int)c))}";
    }

    private sealed class TcpReadiness(int port) : Readiness
    {
        public override async Task<bool> ProbeAsync(CancellationToken cancellationToken)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }

        public override string ToString() => $"127.0.0.1:{port} accepts TCP";
    }

    private sealed class UnixSocketReadiness(string path) : Readiness
    {
        public override async Task<bool> ProbeAsync(CancellationToken cancellationToken)
        {
            if (!File.Exists(path))
            {
                return false;
            }

            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }

        public override string ToString() => $"unix socket {path} accepts";
    }
}
