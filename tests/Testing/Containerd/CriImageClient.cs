using System.Net.Sockets;
using Grpc.Net.Client;
using P2PRegistry.Testing.Containerd.Cri;

namespace P2PRegistry.Testing.Containerd;

/// <summary>
/// kubelet's image pull, without kubelet: the CRI <c>runtime.v1.ImageService/PullImage</c> call over containerd's
/// unix socket (crictl is not packaged here). The containerd daemon itself then does the HTTP, reading the CRI
/// plugin's <c>registry.config_path</c>; images land in containerd namespace <c>k8s.io</c>.
/// </summary>
public static class CriImageClient
{
    /// <summary>Pulls <paramref name="image"/>; returns the image id (<c>sha256:…</c> of its config) containerd reports.</summary>
    public static async Task<string> PullAsync(string socket, string image, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct).ConfigureAwait(false);
                    return new NetworkStream(connection, ownsSocket: true);
                }
                catch
                {
                    connection.Dispose();
                    throw;
                }
            },
        };
        using var channel = GrpcChannel.ForAddress("http://containerd", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        var client = new ImageService.ImageServiceClient(channel);
        var response = await client.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } },
            deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.ImageRef;
    }
}
