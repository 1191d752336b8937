namespace P2PRegistry.Testing.Http;

public static class ResponseBodies
{
    /// <summary>
    /// Reads a response body to its end, counting the bytes. <c>Cut</c> is true when the connection broke off instead
    /// (what a server does to a client it must not give a whole bad blob).
    /// </summary>
    public static async Task<(long Received, bool Cut)> DrainAsync(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        long received = 0;
        try
        {
            var body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await body.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    received += read;
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return (received, true);
        }

        return (received, false);
    }
}
